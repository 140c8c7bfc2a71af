#!/usr/bin/env node
// `npx srs …`: the operator CLI (src/cli.ts), run through tsx's loader in this process, so its
// stdout carries nothing but the command's output (no npm banner, no second process).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
