#!/usr/bin/env node
// Kept outside dist/ so that installs link it before the first build.
import '../dist/bin/venice-e2ee-proxy.js';
