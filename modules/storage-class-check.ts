import { Construct } from 'constructs';
import { DataKubernetesResources } from '@cdktf/provider-kubernetes/lib/data-kubernetes-resources';

export interface StorageClassCheckProps {
  /** The configured StorageClass; undefined means the cluster's default class. */
  readonly storageClass?: string;
  /** The setting that chose it, named in the errors (e.g. `environments.prod.kafka.storageClass`). */
  readonly setting: string;
  /**
   * The volumes' pods spread over zones: the class must then bind a volume only once its pod is
   * placed (`WaitForFirstConsumer`), or a volume made up front in one zone pins the pod there
   * and the zone spread cannot be met.
   */
  readonly zoneSpread: boolean;
}

/** The annotations that mark a cluster's default StorageClass (GA and the older beta one). */
export const DEFAULT_CLASS_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'] as const;

/**
 * Checks, at plan time and against the cluster's own StorageClasses, that the class the
 * environment's volumes use exists (or that the cluster has a default class when none is set)
 * and that it binds volumes late enough for the zone spread. Without it, a missing class left
 * every PVC Pending and the atomic Helm releases rolled back after their timeout; an
 * `Immediate` class (GKE's `standard`) placed volumes before the pods were spread.
 */
export class StorageClassCheck extends Construct {
  /** The StorageClass listing whose postconditions fail the plan. */
  readonly classes: DataKubernetesResources;

  constructor(scope: Construct, id: string, props: StorageClassCheckProps) {
    super(scope, id);
    const names = '[for c in self.objects : c.metadata.name]';
    const isDefault = (c: string) => DEFAULT_CLASS_ANNOTATIONS.map((a) => `try(${c}.metadata.annotations["${a}"], "") == "true"`).join(' || ');
    const defaults = `[for c in self.objects : c if ${isDefault('c')}]`;
    // The class the volumes get: the named one, else the default (null when there is none).
    const chosen = props.storageClass
      ? `one([for c in self.objects : c if c.metadata.name == ${JSON.stringify(props.storageClass)}])`
      : `try(${defaults}[0], null)`;
    const has = `\${join(", ", ${names})}`;
    const fix = 'a WaitForFirstConsumer class (EKS: gp3 of the EBS CSI driver; GKE: standard-rwo or premium-rwo)';

    const postcondition: { condition: string; errorMessage: string }[] = props.storageClass
      ? [
          {
            condition: `\${contains(${names}, ${JSON.stringify(props.storageClass)})}`,
            errorMessage: `${props.setting} is "${props.storageClass}", but the cluster has no StorageClass of that name (it has: ${has}): set ${props.setting} to one of them, or leave it out to use the cluster's default class.`,
          },
        ]
      : [
          {
            condition: `\${length(${defaults}) > 0}`,
            errorMessage: `${props.setting} is not set, so the volumes use the cluster's default StorageClass, but the cluster has none (its classes: ${has}): set ${props.setting} to ${fix}, or mark one as default (annotation ${DEFAULT_CLASS_ANNOTATIONS[0]}: "true").`,
          },
        ];
    if (props.zoneSpread) {
      const label = props.storageClass ? `"${props.storageClass}"` : `"\${try(${chosen}.metadata.name, "")}" (the cluster's default)`;
      postcondition.push({
        // Only judged once a class was found: a missing one has its own error above.
        condition: `\${${chosen} == null || try(${chosen}.volumeBindingMode, "Immediate") == "WaitForFirstConsumer"}`,
        errorMessage: `StorageClass ${label} binds volumes at once (volumeBindingMode \${try(${chosen}.volumeBindingMode, "Immediate")}), before the scheduler spreads the pods over zones: a volume made in one zone pins its pod there. Set ${props.setting} to ${fix}.`,
      });
    }

    this.classes = new DataKubernetesResources(this, 'classes', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      lifecycle: { postcondition },
    });
  }
}
