// Runtime configuration for the postbase client, loaded before the app and never bundled.
// A deployment (or a test) replaces this file to point the built client at another API
// without rebuilding, for example:
//
//   window.POSTBASE_API = "https://api.example.com";
//
// Left unset, the client uses ?api= from the page URL, else VITE_API_BASE from build time,
// else http://127.0.0.1:8080.
