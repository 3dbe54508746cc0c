// Public entry of the audit-chain rules shared by the server and the Auditor's browser.
export * from './canonical';
export * from './chain';
export * from './merkle';
export * from './tree-head';
export * from './verify';
