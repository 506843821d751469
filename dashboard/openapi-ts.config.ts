// The dashboard's client, generated from the committed spec into src/generated/ (ignored by
// git), as clients/typescript does: the fetch client, the types and the SDK.
import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: '../openapi/openapi.json',
  output: 'src/generated',
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
});
