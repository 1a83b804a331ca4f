import type { ProjectFile } from "../../../../runtime/api/contract.ts";

interface Folder {
  readonly name: string;
  readonly path: string;
  readonly folders: Map<string, Folder>;
  readonly files: { name: string; path: string }[];
}

function tree(files: readonly ProjectFile[]): Folder {
  const root: Folder = { name: "", path: "", folders: new Map(), files: [] };
  for (const f of files) {
    const parts = f.path.split("/");
    const name = parts.pop()!;
    let dir = root;
    for (const part of parts) {
      let next = dir.folders.get(part);
      if (!next) {
        next = { name: part, path: dir.path ? `${dir.path}/${part}` : part, folders: new Map(), files: [] };
        dir.folders.set(part, next);
      }
      dir = next;
    }
    dir.files.push({ name, path: f.path });
  }
  return root;
}

/**
 * Every file of the project, as folders and files: a click opens the file in
 * a tab. Files with unsaved changes carry a dot, the one with a refused
 * build's error a mark.
 */
export function FileTree(props: {
  readonly files: readonly ProjectFile[];
  readonly active: string | null;
  readonly dirty: ReadonlySet<string>;
  readonly failing: string | null;
  readonly onOpen: (path: string) => void;
}) {
  const render = (dir: Folder) => (
    <ul>
      {[...dir.folders.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((f) => (
          <li key={f.path}>
            <details open={f.path.split("/").length === 1}>
              <summary>{f.name}/</summary>
              {render(f)}
            </details>
          </li>
        ))}
      {dir.files.map((f) => (
        <li key={f.path}>
          <button
            type="button"
            className={`file${f.path === props.failing ? " failing" : ""}`}
            aria-current={f.path === props.active ? "true" : undefined}
            title={f.path}
            onClick={() => props.onOpen(f.path)}
          >
            {f.name}
            {props.dirty.has(f.path) ? (
              <span className="dirty" aria-label="unsaved">
                {" "}
                ●
              </span>
            ) : null}
          </button>
        </li>
      ))}
    </ul>
  );
  return (
    <nav className="file-tree" aria-label="Project files">
      {render(tree(props.files))}
    </nav>
  );
}
