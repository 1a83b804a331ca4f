/** Where the app's own page is loaded from: the built renderer, or the dev server under `electron-vite dev`. */
export interface AppPage {
  rendererUrl: string;
  devServerUrl?: string | undefined;
}

/**
 * Whether an IPC message comes from the app's own page: the top frame,
 * showing the built renderer (with any query or fragment), or in
 * development any page of the dev server's origin. A subframe, a page
 * navigated elsewhere, a file beside the renderer or a look-alike origin is not.
 */
export function isAppPage(frameUrl: string | null, isTopFrame: boolean, page: AppPage): boolean {
  if (!isTopFrame || frameUrl === null) return false;
  if (page.devServerUrl !== undefined) return frameUrl.startsWith(new URL(page.devServerUrl).origin + "/");
  return (
    frameUrl === page.rendererUrl ||
    frameUrl.startsWith(`${page.rendererUrl}?`) ||
    frameUrl.startsWith(`${page.rendererUrl}#`)
  );
}
