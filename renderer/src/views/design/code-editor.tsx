import { useRef, type KeyboardEvent } from "react";

/**
 * A plain code editor: a textarea with a line-number gutter, Tab indenting
 * by two spaces and Ctrl/Cmd+S saving. Enough to edit an object's code
 * without a dependency; a richer editor can replace it behind these props.
 */
export function CodeEditor(props: {
  readonly value: string;
  readonly onChange: (text: string) => void;
  readonly onSave: () => void;
  readonly label: string;
}) {
  const { value, onChange, onSave } = props;
  const gutter = useRef<HTMLPreElement>(null);
  const lines = value.split("\n").length;

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      onSave();
      return;
    }
    if (e.key === "Tab" && !e.shiftKey) {
      e.preventDefault();
      const el = e.currentTarget;
      const { selectionStart: a, selectionEnd: b } = el;
      onChange(`${value.slice(0, a)}  ${value.slice(b)}`);
      requestAnimationFrame(() => el.setSelectionRange(a + 2, a + 2));
    }
  };

  return (
    <div className="code-editor" data-code-editor="ready">
      <pre className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => i + 1).join("\n")}
      </pre>
      <textarea
        aria-label={props.label}
        className="mono"
        spellCheck={false}
        autoCapitalize="off"
        autoCorrect="off"
        wrap="off"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
      />
    </div>
  );
}
