// The entry reads `require` as bundled CommonJS code sees it (wrangler leaves it be).
declare const require: unknown;
