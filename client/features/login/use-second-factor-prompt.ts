// The page's side of the second sign-in step: a prompt the crypto worker calls (through comlink) and React state to show it.
import { proxy } from 'comlink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SecondFactorChallenge } from '../../../shared/api';
import type { ApiErrorCode } from '../../api';
import type { SecondFactorAnswer, SecondFactorPrompt } from '../../../shared/flows/second-factor';

export type SecondFactorMethodAnswered = SecondFactorAnswer['method'];

/** The second step while it waits for the person (or, `checking`, for the server's verdict on their answer). */
export interface PendingSecondFactor {
  readonly challenge: SecondFactorChallenge;
  /** What the server said about the previous answer; null the first time. */
  readonly problem: ApiErrorCode | null;
  /** The method of the previous answer (the one `problem` is about). */
  readonly lastMethod: SecondFactorMethodAnswered | null;
  /** Counts the prompts of this sign-in: a new round means a new chance (clear the field, move focus). */
  readonly round: number;
  /** An answer was given and the server is checking it. */
  readonly checking: boolean;
}

export interface SecondFactorPromptControl {
  readonly pending: PendingSecondFactor | null;
  /**
   * A fresh prompt for one sign-in, wrapped for comlink: pass it to the worker's login().
   * `onPrompt` runs when the worker asks (the password step is over then).
   */
  readonly begin: (onPrompt?: () => void) => SecondFactorPrompt;
  /** The sign-in ended (signed in, failed or cancelled): hide the step. */
  readonly end: () => void;
  readonly answer: (answer: SecondFactorAnswer) => void;
  /** Gives up the second step; the sign-in ends with `second_factor_needed`. */
  readonly cancel: () => void;
}

/**
 * WARNING: the answer (a code or a passkey assertion) goes to the worker and from there to the
 * server once; it is not kept here after it is given. The password never reaches this hook.
 */
export function useSecondFactorPrompt(): SecondFactorPromptControl {
  const [pending, setPending] = useState<PendingSecondFactor | null>(null);
  const resolver = useRef<((answer: SecondFactorAnswer | null) => void) | null>(null);
  const lastMethod = useRef<SecondFactorMethodAnswered | null>(null);

  const settle = useCallback((answer: SecondFactorAnswer | null) => {
    const resolve = resolver.current;
    resolver.current = null;
    resolve?.(answer);
  }, []);

  const begin = useCallback(
    (onPrompt?: () => void): SecondFactorPrompt => {
      settle(null);
      lastMethod.current = null;
      let round = 0;
      const prompt: SecondFactorPrompt = (challenge, problem) =>
        new Promise<SecondFactorAnswer | null>((resolve) => {
          resolver.current = resolve;
          round += 1;
          onPrompt?.();
          setPending({
            challenge,
            problem,
            lastMethod: problem ? lastMethod.current : null,
            round,
            checking: false,
          });
        });
      return proxy(prompt);
    },
    [settle],
  );

  const end = useCallback(() => {
    settle(null);
    setPending(null);
  }, [settle]);

  const answer = useCallback(
    (given: SecondFactorAnswer) => {
      lastMethod.current = given.method;
      setPending((current) => (current ? { ...current, checking: true } : current));
      settle(given);
    },
    [settle],
  );

  const cancel = useCallback(() => settle(null), [settle]);

  // Leaving the page mid-step ends the sign-in rather than leaving the worker waiting.
  useEffect(() => () => settle(null), [settle]);

  return { pending, begin, end, answer, cancel };
}
