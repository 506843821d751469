// The phone app's SDK, generated from the committed spec into src/generated/ (ignored by git):
// `npm run generate`. The fetch client, the types, zod schemas, and an SDK that checks every
// successful answer against its zod schema before handing it over; everything else is the
// generator's default.
//
// Responses only: with request validation too (`validator: true`), 0.99's zod plugin turns a
// `format: binary` field into z.string(), so the SDK refuses its own Blob upload to
// POST /v1/imports before sending it (the types say `Blob | File`). Requests are checked by tsc.
import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: '../../openapi/openapi.json',
  output: 'src/generated',
  plugins: [
    '@hey-api/client-fetch',
    '@hey-api/typescript',
    'zod',
    { name: '@hey-api/sdk', validator: { response: 'zod' } },
  ],
});
