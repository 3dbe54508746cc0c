// Public entry of the API contract shared by server and client.
export * from './errors';
export * from './error-body';
export * from './contract';
export * from './endpoints';
export * from './wire';
export * from './accounts';
export * from './second-factors';
export * from './uploads';
export * from './documents';
export * from './directory';
export * from './escrow';
export * from './audit';
