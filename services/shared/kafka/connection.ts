import * as net from 'net';
import * as tls from 'tls';
import { ISocketFactory, KafkaConfig, LogEntry, logLevel } from 'kafkajs';
import { KafkaConnectionConfig } from '../config';
import { Logger } from '../observability';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs log lines go through the service's pino logger, so every line is the same JSON. */
function logCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _ts, logger: _name, ...extra } = log as { message: string; timestamp?: string; logger?: string } & Record<string, unknown>;
      child[LEVELS[level] ?? 'info']({ namespace, ...extra }, message);
    };
}

/** The kafkajs client settings of one service: its brokers, TLS, SCRAM, timeouts and logs. */
export function kafkaConfig(cfg: KafkaConnectionConfig, logger: Logger): KafkaConfig {
  return {
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    ssl: cfg.tls ? (cfg.tls.ca ? { ca: [cfg.tls.ca], rejectUnauthorized: true } : true) : false,
    sasl: cfg.sasl ? { mechanism: 'scram-sha-512', username: cfg.sasl.username, password: cfg.sasl.password } : undefined,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger),
    socketFactory: noDelaySocketFactory,
  };
}

const KEEP_ALIVE_DELAY_MS = 60_000;

/** kafkajs' own socket factory, plus TCP_NODELAY. */
const noDelaySocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : net.connect({ host, port }, onConnect);
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  return socket;
};
