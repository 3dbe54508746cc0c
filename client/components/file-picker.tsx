// A file chooser that looks like a button: a <label> around a visually hidden <input type="file">.
import type { ReactNode } from 'react';

export interface FilePickerProps {
  /** The visible text of the button; also the input's name unless `label` says more. */
  readonly children: ReactNode;
  /** A fuller accessible name, for example "Upload for: bank statements". */
  readonly label?: string;
  readonly multiple?: boolean;
  readonly className?: string;
  readonly onFiles: (files: File[]) => void;
}

export function FilePicker({
  children,
  label,
  multiple = false,
  className = 'button',
  onFiles,
}: FilePickerProps) {
  return (
    <label className={`${className} file-button`}>
      <input
        type="file"
        multiple={multiple}
        className="visually-hidden"
        aria-label={label}
        onChange={(event) => {
          const files = [...(event.target.files ?? [])];
          // Choosing the same file again must fire another change.
          event.target.value = '';
          if (files.length > 0) onFiles(files);
        }}
      />
      {label ? <span aria-hidden="true">{children}</span> : children}
    </label>
  );
}
