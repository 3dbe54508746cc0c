// Progress of a long cryptographic operation: the steps, which are done and which is running.
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

export interface ProgressStepsProps<S extends string> {
  readonly title: string;
  readonly steps: readonly { readonly id: S; readonly label: string }[];
  readonly current: S | null;
  readonly note?: string;
}

export function ProgressSteps<S extends string>({
  title,
  steps,
  current,
  note,
}: ProgressStepsProps<S>) {
  const { t } = useTranslation();
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    const started = Date.now();
    const timer = setInterval(() => setSeconds(Math.floor((Date.now() - started) / 1000)), 1000);
    return () => clearInterval(timer);
  }, []);
  const index = current === null ? -1 : steps.findIndex((step) => step.id === current);
  const active = steps[index];
  return (
    <section className="card progress-card" aria-labelledby="progress-title" aria-busy="true">
      <h2 id="progress-title">{title}</h2>
      <div className="progress-bar" aria-hidden="true">
        <span className="progress-bar-fill" />
      </div>
      <ol className="progress-steps">
        {steps.map((step, position) => {
          const status = position < index ? 'done' : position === index ? 'active' : 'waiting';
          return (
            <li key={step.id} className={`progress-step progress-step-${status}`}>
              <span className="progress-step-marker" aria-hidden="true" />
              <span>{step.label}</span>
              <span className="visually-hidden">
                {status === 'done'
                  ? t('progress.done')
                  : status === 'active'
                    ? t('progress.active')
                    : t('progress.waiting')}
              </span>
            </li>
          );
        })}
      </ol>
      <p role="status" className="progress-status">
        {active ? t('progress.now', { step: active.label }) : t('progress.starting')}
      </p>
      <p className="card-help">
        {note} {t('progress.elapsed', { seconds })}
      </p>
    </section>
  );
}
