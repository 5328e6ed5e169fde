#!/usr/bin/env node
// The published entry (bin.kubelogin = dist/main.js): the fast path, which hands over to the full CLI.
import "./fast-path/entry.js";
