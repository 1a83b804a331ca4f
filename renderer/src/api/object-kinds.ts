// The kinds an object class can be given in terrarium.json, as the Design
// panel offers them. A copy of the engine's list (the renderer imports only
// types from the runtime); a unit test keeps the two equal.

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
