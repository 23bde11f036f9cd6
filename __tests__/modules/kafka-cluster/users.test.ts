import { CONSUMER_GROUP, POSTS_DLQ_TOPIC, POSTS_TOPIC, platformTopics } from '../../../config/topics';
import { buildKafkaUser, principalOf, topicAclsFor } from '../../../modules/kafka-cluster';
import { validateCustomResource } from '../../support/schemas';

const topics = platformTopics(3);
const base = { namespace: 'kafka', clusterName: 'platform' };

describe('topicAclsFor', () => {
  it('grants the producer Write and Describe on posts, from the topic specs', () => {
    expect(topicAclsFor('producer', topics)).toEqual([
      { resource: { type: 'topic', name: POSTS_TOPIC, patternType: 'literal' }, operations: ['Write', 'Describe'] },
    ]);
  });

  it('grants the consumer Read and Describe on posts, Read on its group and Write on the dead-letter topic', () => {
    const acls = topicAclsFor('consumer', topics);
    expect(acls).toEqual(
      expect.arrayContaining([
        { resource: { type: 'topic', name: POSTS_TOPIC, patternType: 'literal' }, operations: ['Read', 'Describe'] },
        { resource: { type: 'group', name: CONSUMER_GROUP, patternType: 'literal' }, operations: ['Read'] },
        { resource: { type: 'topic', name: POSTS_DLQ_TOPIC, patternType: 'literal' }, operations: expect.arrayContaining(['Write']) },
      ]),
    );
    expect(acls).toHaveLength(3);
  });

  it('grants nothing to a principal the topics do not name', () => {
    expect(topicAclsFor('stranger', topics)).toEqual([]);
  });
});

describe('buildKafkaUser', () => {
  it('builds SCRAM users with ACLs that validate against the KafkaUser CRD', () => {
    const user = buildKafkaUser({ ...base, name: 'producer', acls: [...topicAclsFor('producer', topics), { resource: { type: 'cluster' }, operations: ['IdempotentWrite'] }] });
    expect(validateCustomResource(user)).toEqual([]);
    expect(user.metadata.labels?.['strimzi.io/cluster']).toBe('platform');
    expect(user.spec.authentication).toEqual({ type: 'scram-sha-512' });
    expect(user.spec.authorization?.acls).toContainEqual({ resource: { type: 'cluster' }, operations: ['IdempotentWrite'] });
  });

  it('takes a super user password from a Secret and leaves its ACLs alone', () => {
    const admin = buildKafkaUser({ ...base, name: 'kafka-admin', passwordSecret: { name: 'kafka-admin-password', key: 'password' } });
    expect(validateCustomResource(admin)).toEqual([]);
    expect(admin.spec.authentication.password).toEqual({ valueFrom: { secretKeyRef: { name: 'kafka-admin-password', key: 'password' } } });
    expect(admin.spec).not.toHaveProperty('authorization');
  });

  it('refuses authorization without a single ACL', () => {
    expect(() => buildKafkaUser({ ...base, name: 'stranger', acls: [] })).toThrow(/KafkaUser "stranger" has authorization but no ACL/);
  });

  it('names principals as Kafka does', () => {
    expect(principalOf('producer')).toBe('User:producer');
  });
});
