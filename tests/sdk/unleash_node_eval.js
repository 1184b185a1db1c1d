// Unleash's Node SDK (unleash-client) evaluating a table of contexts against a live server.
// Reads {url, token, features, contexts} as JSON on stdin; after the SDK's first fetch, prints
// {"answers": [[{name, enabled, variant}, ...per feature], ...per context]} on stdout.
"use strict";

const { initialize, InMemStorageProvider } = require("unleash-client");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { url, token, features, contexts } = JSON.parse(input);
  const client = initialize({
    url,
    appName: "segmux-engine-agreement",
    instanceId: "agreement-1",
    customHeaders: { Authorization: token },
    disableMetrics: true,
    refreshInterval: 60000,
    storageProvider: new InMemStorageProvider(),
  });
  const fail = (message) => {
    process.stderr.write(String(message) + "\n");
    client.destroy();
    process.exit(1);
  };
  const timer = setTimeout(() => fail("the SDK did not synchronize in time"), 20000);
  client.on("error", (err) => fail(err && err.stack ? err.stack : err));
  client.on("synchronized", () => {
    clearTimeout(timer);
    const answers = contexts.map((context) =>
      features.map((name) => {
        const v = client.getVariant(name, context);
        return {
          name,
          enabled: client.isEnabled(name, context),
          variant: {
            name: v.name,
            enabled: v.enabled,
            feature_enabled: v.feature_enabled ?? v.featureEnabled,
            payload: v.payload ?? null,
          },
        };
      }),
    );
    process.stdout.write(JSON.stringify({ answers }));
    client.destroy();
  });
});
