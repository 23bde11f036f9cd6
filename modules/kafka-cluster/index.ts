export * from './crds';
export * from './kafka';
export * from './users';
export * from './monitoring';
export * from './cluster';
export * from './user';
export * from './pod-monitors';
export * from './external-access';
