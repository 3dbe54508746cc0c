// The bundled strength estimator: zxcvbn-ts with the common-password list and English and Dutch words.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import * as nl from '@zxcvbn-ts/language-nl-be';
import type { StrengthEstimator } from './password-rules';

let factory: ZxcvbnFactory | undefined;

/** Builds the estimator once (the dictionaries are large; the client loads this module lazily). */
export function bundledStrengthEstimator(): StrengthEstimator {
  factory ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary, ...nl.dictionary },
    graphs: common.adjacencyGraphs,
  });
  const instance = factory;
  return (password, userInputs) => instance.check(password, userInputs);
}
