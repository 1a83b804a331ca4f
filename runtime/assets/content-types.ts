/**
 * The Content-Type of a static asset, by file extension, as wrangler dev
 * gives it (the `mime` package, with `; charset=utf-8` added to text/*
 * types). A file whose extension is not here gets no Content-Type, as
 * wrangler gives none to one `mime` does not know.
 *
 * TODO(assets): `mime` knows ~1000 extensions; this holds the ones a web
 * project serves. A missing one shows up as an absent Content-Type.
 */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  html: "text/html",
  htm: "text/html",
  shtml: "text/html",
  css: "text/css",
  js: "text/javascript",
  mjs: "text/javascript",
  cjs: "application/node",
  json: "application/json",
  map: "application/json",
  jsonld: "application/ld+json",
  webmanifest: "application/manifest+json",
  txt: "text/plain",
  text: "text/plain",
  md: "text/markdown",
  markdown: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  xml: "application/xml",
  xhtml: "application/xhtml+xml",
  rss: "application/rss+xml",
  atom: "application/atom+xml",
  yaml: "text/yaml",
  yml: "text/yaml",
  toml: "application/toml",
  ics: "text/calendar",
  vtt: "text/vtt",
  manifest: "text/cache-manifest",
  svg: "image/svg+xml",
  png: "image/png",
  apng: "image/apng",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/vnd.microsoft.icon",
  bmp: "image/bmp",
  tif: "image/tiff",
  tiff: "image/tiff",
  heic: "image/heic",
  jxl: "image/jxl",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  eot: "application/vnd.ms-fontobject",
  wasm: "application/wasm",
  pdf: "application/pdf",
  mp4: "video/mp4",
  webm: "video/webm",
  ogv: "video/ogg",
  mov: "video/quicktime",
  ts: "video/mp2t",
  m3u8: "application/vnd.apple.mpegurl",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  flac: "audio/x-flac",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  "7z": "application/x-7z-compressed",
  epub: "application/epub+zip",
  rtf: "application/rtf",
  glb: "model/gltf-binary",
  gltf: "model/gltf+json",
  bin: "application/octet-stream",
  exe: "application/octet-stream",
  dmg: "application/octet-stream",
  jar: "application/java-archive",
  sh: "application/x-sh",
};

/** The Content-Type for a file name, or null when it has no known extension. */
export function contentTypeFor(fileName: string): string | null {
  const base = fileName.slice(fileName.lastIndexOf("/") + 1).toLowerCase();
  const dot = base.lastIndexOf(".");
  // A name with no dot, or only a leading one (".css"), has no extension (as for `mime`).
  const type = dot <= 0 ? undefined : BY_EXTENSION[base.slice(dot + 1)];
  if (type === undefined) return null;
  return type.startsWith("text/") ? `${type}; charset=utf-8` : type;
}
