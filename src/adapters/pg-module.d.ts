// node-postgres ships no types and @types/pg is not a dependency: adapters/postgres.ts declares the
// few members it uses and reads the module through them.
declare module 'pg';
