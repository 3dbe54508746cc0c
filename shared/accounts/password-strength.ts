// The bundled strength estimator: zxcvbn-ts with the common-password list and the words of the user's
// language only. Each language's word lists are a chunk of their own, fetched on first use (English's
// alone are about 1.2 MB), so a Dutch user never downloads the English ones and the reverse.
// @zxcvbn-ts/language-nl-be is 3.x, the newest Dutch release: its lists are plain word arrays, the form
// core 4.x's `dictionary` option takes (password-rules.test.ts checks its words are matched).
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import type { Language } from '../api/wire';
import type { StrengthEstimator } from './password-rules';

type Dictionaries = Readonly<Record<string, readonly string[]>>;

/** How each language's word lists are loaded: one dynamic import each, so bundlers split them. */
export const languageDictionaries: Readonly<Record<Language, () => Promise<{ readonly dictionary: Dictionaries }>>> = {
  en: () => import('@zxcvbn-ts/language-en'),
  nl: () => import('@zxcvbn-ts/language-nl-be'),
};

const estimators = new Map<string, Promise<StrengthEstimator>>();

/**
 * The estimator for passwords of a person who reads `languages` (usually one: the account's or the
 * screen's language). Built once per set of languages; the dictionaries load on the first call.
 */
export function strengthEstimator(languages: readonly Language[], load: typeof languageDictionaries = languageDictionaries): Promise<StrengthEstimator> {
  const wanted = [...new Set(languages)].sort();
  const key = wanted.join(',');
  let estimator = load === languageDictionaries ? estimators.get(key) : undefined;
  if (!estimator) {
    estimator = Promise.all(wanted.map((language) => load[language]())).then((packs) => {
      const dictionary: Record<string, string[]> = { ...common.dictionary };
      for (const pack of packs) for (const [name, words] of Object.entries(pack.dictionary)) dictionary[name] = [...words];
      const factory = new ZxcvbnFactory({ dictionary, graphs: common.adjacencyGraphs });
      return (password, userInputs) => factory.check(password, userInputs);
    });
    if (load === languageDictionaries) {
      estimators.set(key, estimator);
      estimator.catch(() => estimators.delete(key)); // a failed chunk load is tried again next time
    }
  }
  return estimator;
}
