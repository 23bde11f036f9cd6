import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { AclRule, KafkaUserResource } from './crds';
import { buildKafkaUser } from './users';

export interface ScramUserProps {
  /** KafkaUser name, which is also the SCRAM user name. */
  readonly name: string;
  /** Namespace of the cluster (the User Operator watches only it). */
  readonly namespace: string;
  /** Kafka resource the user belongs to. */
  readonly clusterName: string;
  /** ACLs; undefined leaves the user without managed ACLs (super users need none). */
  readonly acls?: readonly AclRule[];
  /**
   * Password to give the user (a sensitive variable, never a literal). Stored in a Secret
   * the KafkaUser references; undefined lets the User Operator generate one.
   */
  readonly password?: string;
  /** Wait until the User Operator has created the credentials (status Ready). */
  readonly waitReady: boolean;
  /** How long an apply may wait for Ready, e.g. `10m`. */
  readonly readyTimeout: string;
  /** Resources that must exist first (the cluster). */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A SCRAM-SHA-512 KafkaUser. The User Operator writes its password and JAAS config to a
 * Secret named like the user, in the cluster's namespace.
 */
export class ScramUser extends Construct {
  /** The KafkaUser manifest; depend on it (with waitReady) to use the credentials. */
  readonly manifest: Manifest;
  /** The object applied, for tests. */
  readonly resource: KafkaUserResource;
  /** User name, as a reference to the applied manifest. */
  readonly userName: string;

  constructor(scope: Construct, id: string, props: ScramUserProps) {
    super(scope, id);
    let passwordSecret: { name: string; key: string } | undefined;
    const dependsOn = [...(props.dependsOn ?? [])];
    if (props.password !== undefined) {
      const secret = new SecretV1(this, 'password', {
        metadata: { name: `${props.name}-password`, namespace: props.namespace, labels: { 'app.kubernetes.io/part-of': 'kafka-platform' } },
        data: { password: props.password },
        type: 'Opaque',
      });
      passwordSecret = { name: secret.metadata.name, key: 'password' };
      dependsOn.push(secret);
    }
    this.resource = buildKafkaUser({ name: props.name, namespace: props.namespace, clusterName: props.clusterName, acls: props.acls, passwordSecret });
    this.manifest = new Manifest(this, 'user', {
      manifest: this.resource,
      dependsOn,
      ...(props.waitReady ? { wait: { condition: [{ type: 'Ready', status: 'True' }] } } : {}),
      timeouts: { create: props.readyTimeout, update: props.readyTimeout },
    });
    this.userName = this.manifest.getStringAttribute('manifest.metadata.name');
  }
}
