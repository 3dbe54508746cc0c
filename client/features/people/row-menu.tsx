// A person's actions on the People page: a disclosure button with a list of actions, usable by keyboard alone.
import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';

export interface RowMenuItem {
  /** Stable key; also the start of the item's DOM id. */
  readonly key: string;
  /** The visible text. */
  readonly label: string;
  /** The accessible name where the visible text alone is ambiguous on a page of many rows ("Lift lock for Carla"). */
  readonly ariaLabel?: string;
  /** A destructive action: styled as such (it still asks for confirmation). */
  readonly danger?: boolean;
  readonly onSelect: () => void;
}

export interface RowMenuProps {
  /** The toggle's visible text ("Actions"). */
  readonly label: string;
  /** The toggle's and the list's accessible name ("Actions for Carla Client"). */
  readonly name: string;
  readonly items: readonly RowMenuItem[];
}

/**
 * The same disclosure pattern as the account menu (client/components/user-menu.tsx): every item is a
 * plain button, so Tab reaches them all; the arrow keys, Home and End move between them too, and
 * Escape closes the list and gives focus back to the toggle. The list opens in the row itself
 * (not floating), so a scrolling table never clips it.
 */
export function RowMenu({ label, name, items }: RowMenuProps) {
  const [open, setOpen] = useState(false);
  const listId = useId();
  const container = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);

  const buttons = () => [...(container.current?.querySelectorAll<HTMLButtonElement>('.row-menu-item') ?? [])];

  useEffect(() => {
    if (!open) return;
    // Keyboard users land on the first action; pointer users see the list open where they clicked.
    buttons()[0]?.focus();
    const onPointer = (event: PointerEvent) => {
      if (event.target instanceof Node && !container.current?.contains(event.target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  if (items.length === 0) return null;

  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    const all = buttons();
    const at = all.findIndex((button) => button === document.activeElement);
    const move = (index: number) => {
      event.preventDefault();
      all[(index + all.length) % all.length]?.focus();
    };
    if (event.key === 'ArrowDown') move(at + 1);
    else if (event.key === 'ArrowUp') move(at - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(all.length - 1);
    else if (event.key === 'Escape') {
      // Inside a dialog-free page only: the list is not in a <dialog>, so Escape is ours.
      event.preventDefault();
      setOpen(false);
      toggle.current?.focus();
    }
  };

  return (
    <div className="row-menu" ref={container}>
      <button
        ref={toggle}
        type="button"
        className="button button-small button-secondary row-menu-button"
        aria-expanded={open}
        aria-controls={listId}
        aria-label={name}
        onClick={() => setOpen((shown) => !shown)}
      >
        {label}
      </button>
      <ul className="row-menu-list" id={listId} hidden={!open} aria-label={name} onKeyDown={onKeyDown}>
        {items.map((item) => (
          <li key={item.key}>
            <button
              type="button"
              className={item.danger ? 'row-menu-item row-menu-item-danger' : 'row-menu-item'}
              aria-label={item.ariaLabel}
              onClick={() => {
                setOpen(false);
                // The dialog the action opens gives focus back to the element focused before it: the toggle.
                toggle.current?.focus();
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
