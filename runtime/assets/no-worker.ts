/**
 * The entry of an assets-only project (wrangler config without `main`).
 * The Router answers every request from the assets and never calls it; it
 * exists so that such a project loads like any other.
 */
export default {
  fetch(): Response {
    return new Response(null, { status: 404 });
  },
};
