// npm sets the bit when it links a bin, but tests and the demo run dist/main.js from the checkout.
import { chmodSync } from "node:fs";
chmodSync(new URL("../dist/main.js", import.meta.url), 0o755);
