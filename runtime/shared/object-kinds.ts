/**
 * The kinds an object class can be given in terrarium.json (the seed's eight
 * object kinds), as the Design panel offers them. Plain data with no imports,
 * so the renderer imports it as a value too.
 */
export const OBJECT_KINDS = [
  "Authentication",
  "User Management",
  "Data Storage",
  "API Gateway",
  "UI Renderer",
  "Analytics",
  "Notification",
  "Custom",
] as const;

export type ObjectKind = (typeof OBJECT_KINDS)[number];
