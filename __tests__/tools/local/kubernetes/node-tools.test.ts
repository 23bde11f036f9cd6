import { missingHostTool } from '../../../../tools/local/kubernetes/node';

describe('local node host tools', () => {
  it('names a missing tool and the Debian package that brings it', () => {
    expect(missingHostTool([['kafka-platform-no-such-tool', 'kafka-platform-pkg']])).toBe(
      'kafka-platform-no-such-tool is missing: the local node needs it; install it with: apt-get install -y kafka-platform-pkg',
    );
  });

  it('finds nothing missing on a machine set up by the bootstrap', () => {
    expect(missingHostTool()).toBeUndefined();
  });
});
