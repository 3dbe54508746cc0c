// Every migration, in order. The migrator reads this list; a test checks no file is missing from it.
/* eslint-disable no-restricted-imports -- this list is the one file here that imports its siblings */
import type { Migration } from 'kysely';
import * as m0001Foundation from './0001_foundation';

export const migrations: Readonly<Record<string, Migration>> = {
  '0001_foundation': m0001Foundation,
};
