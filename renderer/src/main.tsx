import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import { connect } from "./api/control.ts";
import { startLive } from "./live.ts";
import { useConnectionStore } from "./stores/connection.ts";
import "./app.css";

const container = document.getElementById("root");
if (!container) throw new Error("renderer: index.html has no #root element");

// One connection and one live stream for the page's lifetime, outside React
// (StrictMode mounts effects twice in development).
const connection = connect();
useConnectionStore.getState().attach(connection);
startLive(connection.api);

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
