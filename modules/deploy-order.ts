import { TerraformStack } from 'cdktf';
import { DataKubernetesResources } from '@cdktf/provider-kubernetes/lib/data-kubernetes-resources';

/**
 * Stacks read each other's outputs through remote state. Deployed before a stack it reads
 * from, a stack would fail with "Unable to find remote state" (never deployed) or with
 * "Unsupported attribute" on every reference (destroyed): true, but silent about the fix.
 * These checks stop the plan with the stack to deploy first instead.
 */

/** A cluster object that exists once a stack has been deployed. */
export interface DeployedEvidence {
  /** API version, e.g. `apiextensions.k8s.io/v1`. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Namespace; undefined for cluster-scoped kinds. */
  readonly namespace?: string;
  /** What the object is, for the error message. */
  readonly description: string;
}

/** Guards per stack: the stack read from -> address of the data source checking it. */
const guards = new WeakMap<TerraformStack, Map<string, string>>();

const deployFirst = (stack: string, source: string, why: string) =>
  `${stack} reads ${source}'s outputs, but ${source} has not been deployed to this environment (${why}): deploy ${source} first.`;

/**
 * Makes `stack` check, before it reads `source`'s state, that `evidence` exists in the
 * cluster. Listing objects never fails on a missing one (a lookup by name would).
 */
export function requireDeployed(stack: TerraformStack, source: string, evidence: DeployedEvidence): void {
  const guard = new DataKubernetesResources(stack, `requires-${source}`, {
    apiVersion: evidence.apiVersion,
    kind: evidence.kind,
    namespace: evidence.namespace,
    fieldSelector: `metadata.name=${evidence.name}`,
    lifecycle: {
      postcondition: [{ condition: '${length(self.objects) > 0}', errorMessage: deployFirst(stack.node.id, source, `${evidence.description} is missing`) }],
    },
  });
  const byStack = guards.get(stack) ?? new Map<string, string>();
  byStack.set(source, `data.${DataKubernetesResources.tfResourceType}.${guard.friendlyUniqueId}`);
  guards.set(stack, byStack);
}

interface RemoteStateJson {
  depends_on?: string[];
  lifecycle?: { postcondition?: { condition: string; error_message: string }[] };
}

/** cdktf's name for the remote state lookup of the stack a cross-stack reference comes from. */
const CROSS_STACK_INPUT = /^cross-stack-reference-input-(.+)$/;

/**
 * Orders each remote state lookup of the synthesized `tf` after its guard, and makes an
 * empty state (a destroyed stack) fail there with the same advice.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function orderCrossStackLookups(stack: TerraformStack, tf: any): void {
  const lookups = (tf.data?.terraform_remote_state ?? {}) as Record<string, RemoteStateJson>;
  const read = Object.keys(lookups).map((name) => CROSS_STACK_INPUT.exec(name)?.[1]);
  for (const source of guards.get(stack)?.keys() ?? []) {
    if (!read.includes(source)) throw new Error(`${stack.node.id} checks that ${source} is deployed but reads nothing from it: remove the check or fix the stack name`);
  }
  for (const [name, lookup] of Object.entries(lookups)) {
    const source = CROSS_STACK_INPUT.exec(name)?.[1];
    if (!source) continue;
    const guard = guards.get(stack)?.get(source);
    if (guard) lookup.depends_on = [...(lookup.depends_on ?? []), guard];
    lookup.lifecycle = {
      ...lookup.lifecycle,
      postcondition: [
        ...(lookup.lifecycle?.postcondition ?? []),
        { condition: '${length(keys(self.outputs)) > 0}', error_message: deployFirst(stack.node.id, source, 'its state has no outputs') },
      ],
    };
  }
}
