/**
 * Running a service image the way the clusters do (workloads-stack's pod security settings):
 * read-only root filesystem, every capability dropped, no privilege escalation, user 65532.
 * On this machine the container shares the host network, so it reaches the local Kafka at its
 * advertised 127.0.0.1 addresses; HTTP_HOST keeps its probe port on 127.0.0.1.
 */

/** podman run flags of every service container. */
export const HARDENING_FLAGS = ['--read-only', '--cap-drop=ALL', '--security-opt=no-new-privileges', '--user', '65532:65532'] as const;

/**
 * podman schedules HEALTHCHECKs with systemd timers, and these machines run no systemd: the
 * check stays defined (`podman healthcheck run` runs it) but nothing schedules it.
 */
export const NO_HEALTHCHECK_TIMER = ['--health-interval=disable'] as const;

export interface ServiceContainer {
  /** Image reference (a registry reference by digest, so what runs is what was signed). */
  readonly image: string;
  /** Container name. */
  readonly name: string;
  /** Service environment (HTTP_HOST is set to 127.0.0.1 unless given). */
  readonly env: Readonly<Record<string, string>>;
  /** Run in the background (`podman run -d`). */
  readonly detach?: boolean;
  /** Remove the container when it exits (a one-shot job). */
  readonly remove?: boolean;
}

/** Arguments of `podman run` for one hardened service container on the host network. */
export function serviceRunArgs(c: ServiceContainer): string[] {
  const env = { HTTP_HOST: '127.0.0.1', ...c.env };
  return [
    'run',
    ...(c.detach ? ['--detach'] : []),
    ...(c.remove ? ['--rm'] : []),
    '--name', c.name,
    '--pull=missing',
    '--network', 'host',
    ...NO_HEALTHCHECK_TIMER,
    ...HARDENING_FLAGS,
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    c.image,
  ];
}
