import { execFile } from 'child_process';
import * as fs from 'fs';
import { promisify } from 'util';

/**
 * The host's part of a joined node's pod network. Services need two things the standalone node
 * does without: iptables must see traffic between pods on the bridge (kube-proxy's NAT, the
 * enforcer's filters), and the host must route a pod's packet to a Service back onto the
 * bridge once kube-proxy has turned the Service address into a pod's. Both are switched on for
 * the node's bridge alone (the bridge's own `nf_call_iptables`, the interface's `forwarding`),
 * never host-wide, and a chain of this project's in FORWARD drops whatever would be forwarded
 * from the bridge to any other interface or from any other into it.
 */

const run = promisify(execFile);

/** The project's FORWARD guard for one bridge (iptables chain names: at most 28 characters). */
export const guardChain = (bridge: string) => `KP-NODE-${bridge}`.slice(0, 28);

async function iptables(...args: string[]): Promise<string> {
  return (await run('iptables', ['-w', '5', ...args])).stdout;
}

export async function openBridgeToServices(bridge: string): Promise<void> {
  await run('ip', ['link', 'set', 'dev', bridge, 'type', 'bridge', 'nf_call_iptables', '1']);
  fs.writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '1\n');
  const chain = guardChain(bridge);
  await iptables('-N', chain).catch(() => undefined);
  await iptables('-F', chain);
  await iptables('-A', chain, '-i', bridge, '!', '-o', bridge, '-m', 'comment', '--comment', 'kafka-platform: pods are never forwarded off their bridge', '-j', 'DROP');
  await iptables('-A', chain, '!', '-i', bridge, '-o', bridge, '-m', 'comment', '--comment', 'kafka-platform: nothing is forwarded onto the pod bridge', '-j', 'DROP');
  const present = await iptables('-C', 'FORWARD', '-j', chain).then(
    () => true,
    () => false,
  );
  if (!present) await iptables('-I', 'FORWARD', '1', '-j', chain);
}

export async function closeBridgeToServices(bridge: string): Promise<void> {
  const chain = guardChain(bridge);
  while (await iptables('-D', 'FORWARD', '-j', chain).then(() => true, () => false));
  await iptables('-F', chain).catch(() => undefined);
  await iptables('-X', chain).catch(() => undefined);
}

/** The guard's rules as `iptables -S` prints them (empty when absent). */
export async function guardRules(bridge: string): Promise<string[]> {
  try {
    return (await iptables('-S', guardChain(bridge))).split('\n').filter((l) => l.startsWith('-A'));
  } catch {
    return [];
  }
}

/** Chains and address sets of kube-router's firewall controller (netpol: pod.go, policy.go). */
const ENFORCER_CHAIN = /^KUBE-(ROUTER-(INPUT|FORWARD|OUTPUT)|POD-FW-|NWPLCY-)/;
const ENFORCER_SET = /^(KUBE-(SRC|DST)-|kube-router-)/;

/**
 * Removes the enforcer's chains, the jumps to them and its ipsets (and kube-proxy's empty KUBE-FIREWALL). kube-router leaves them when
 * it stops, and its `--cleanup-config` of 2.1.0 leaves them too (and then panics in the proxy's
 * clean-up): the filter table is rewritten without them, everyone else's rules as they were.
 */
export async function removeEnforcerRules(): Promise<void> {
  const saved = (await run('iptables-save', ['-t', 'filter'])).stdout.split('\n');
  const chainOf = (line: string) => /^(?::|-A )(\S+)/.exec(line)?.[1] ?? '';
  const jumpsTo = (line: string) => /-j (\S+)/.exec(line)?.[1] ?? '';
  // kube-proxy also makes an empty KUBE-FIREWALL (the kubelet's, filled only for localhost
  // NodePorts, which are off) that its --cleanup leaves: it goes too while it is empty.
  const emptyFirewall = !saved.some((l) => l.startsWith('-A KUBE-FIREWALL '));
  const ours = (chain: string) => ENFORCER_CHAIN.test(chain) || (emptyFirewall && chain === 'KUBE-FIREWALL');
  const kept = saved.filter((l) => !ours(chainOf(l)) && !ours(jumpsTo(l)));
  if (kept.length !== saved.length) {
    await new Promise<void>((resolve, reject) => {
      const child = execFile('iptables-restore', ['-w', '5', '-T', 'filter'], (err) => (err ? reject(err) : resolve()));
      child.stdin!.end(kept.join('\n'));
    });
  }
  const sets = (await run('ipset', ['list', '-n'])).stdout.split('\n').filter((s) => ENFORCER_SET.test(s));
  // Sets referenced by each other (list:set) go in any order once the rules are gone: retry.
  for (let pass = 0; pass < 3 && sets.length; pass++) {
    for (const s of [...sets]) {
      if (await run('ipset', ['destroy', s]).then(() => true, () => false)) sets.splice(sets.indexOf(s), 1);
    }
  }
}

/** The enforcer's chains still on the host (none once the node is down). */
export async function enforcerChains(): Promise<string[]> {
  return (await run('iptables-save', ['-t', 'filter'])).stdout
    .split('\n')
    .filter((l) => l.startsWith(':'))
    .map((l) => l.slice(1).split(' ')[0])
    .filter((c) => ENFORCER_CHAIN.test(c));
}
