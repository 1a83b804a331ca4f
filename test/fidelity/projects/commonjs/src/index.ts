import legacy from "./legacy.cjs";

/** An ES module entry that bundles CommonJS modules which require() each other. */
export default {
  fetch(): Response {
    return Response.json({
      ...(legacy as Record<string, unknown>),
      entrySawRequire: typeof require,
      dynamicRequire: (() => {
        try {
          return (require as (id: string) => unknown)("not-bundled");
        } catch (e) {
          return { error: e instanceof Error ? e.name : String(e) };
        }
      })(),
    });
  },
} satisfies ExportedHandler;
