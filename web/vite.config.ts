import { defineConfig } from "vite";

// The client is served from its own origin (port 5173) and talks to the API on another
// (VITE_API_BASE, default http://127.0.0.1:8080): that cross-origin setup is the point.
export default defineConfig({
  // Relative asset URLs, so web/dist can be served from any path.
  base: "./",
  server: { host: "127.0.0.1", port: 5173 },
  preview: { host: "127.0.0.1", port: 4173 },
  build: { outDir: "dist", emptyOutDir: true },
});
