import { KubeObject } from '../../tools/local/kubernetes';

/** The StorageClasses an EKS and a GKE cluster come with, as the API server returns them. */

const storageClass = (name: string, provisioner: string, volumeBindingMode: 'Immediate' | 'WaitForFirstConsumer', isDefault = false): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name, ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  provisioner,
  volumeBindingMode,
});

/** EKS 1.30 and later: the in-tree gp2 class, no longer marked default. */
export const EKS = [storageClass('gp2', 'kubernetes.io/aws-ebs', 'WaitForFirstConsumer')];
/** ... with the EBS CSI driver's gp3 class added. */
export const EKS_WITH_GP3 = [...EKS, storageClass('gp3', 'ebs.csi.aws.com', 'WaitForFirstConsumer')];
/** GKE: `standard` binds at once, the CSI classes wait for the pod; standard-rwo is the default. */
export const GKE = [
  storageClass('standard', 'kubernetes.io/gce-pd', 'Immediate'),
  storageClass('standard-rwo', 'pd.csi.storage.gke.io', 'WaitForFirstConsumer', true),
  storageClass('premium-rwo', 'pd.csi.storage.gke.io', 'WaitForFirstConsumer'),
];
/** An older GKE cluster whose default is still the Immediate `standard`. */
export const GKE_OLD_DEFAULT = [storageClass('standard', 'kubernetes.io/gce-pd', 'Immediate', true), storageClass('standard-rwo', 'pd.csi.storage.gke.io', 'WaitForFirstConsumer')];

/** What each scenario must produce: the error text, or none. */
export const SETTING = 'environments.prod.kafka.storageClass';
export const EXPECTED = {
  eksStandard: `${SETTING} is "standard", but the cluster has no StorageClass of that name (it has: gp2): set ${SETTING} to one of them, or leave it out to use the cluster's default class.`,
  eksNoDefault: `${SETTING} is not set, so the volumes use the cluster's default StorageClass, but the cluster has none (its classes: gp2): set ${SETTING} to a WaitForFirstConsumer class`,
  gkeStandard: `StorageClass "standard" binds volumes at once (volumeBindingMode Immediate), before the scheduler spreads the pods over zones: a volume made in one zone pins its pod there. Set ${SETTING} to a WaitForFirstConsumer class (EKS: gp3 of the EBS CSI driver; GKE: standard-rwo or premium-rwo).`,
  gkeOldDefault: 'StorageClass "standard" (the cluster\'s default) binds volumes at once (volumeBindingMode Immediate)',
} as const;
