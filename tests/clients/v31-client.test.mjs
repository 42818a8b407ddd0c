// A published REST Countries v3.1 client (@yusifaliyevpro/countries 2.3.2, pinned in package.json),
// unchanged but for its base URL, against the local service; every answer is checked against the
// bundled v3.1 data set. Run by the e2e test `local_server::a_published_v31_client_works_unchanged`:
//   COUNTRIES_BASE_URL=http://127.0.0.1:3000 V31_DATA=crates/core/data/countriesV3.1.json node --test
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as client from "@yusifaliyevpro/countries";

const base = process.env.COUNTRIES_BASE_URL;
const data = JSON.parse(readFileSync(process.env.V31_DATA, "utf8"));
assert.ok(base, "COUNTRIES_BASE_URL is the service under test");

// The library's base URL is a constant; the only change a migrating app makes is where it points, so the
// requests it builds for restcountries.com go to the service instead, path and query untouched.
const realFetch = globalThis.fetch;
const requested = [];
globalThis.fetch = (url, options) => {
  const rewritten = String(url).replace("https://restcountries.com", base);
  requested.push(rewritten);
  return realFetch(rewritten, options);
};

const lower = (s) => s.toLowerCase();
const codes = (list) => new Set(list.map((c) => c.cca2));
const expected = (pred) => new Set(data.filter(pred).map((c) => c.cca2));
const byCode = (cca2) => data.find((c) => c.cca2 === cca2);

test("all countries with fields, and by independence", async () => {
  const all = await client.getCountries({ fields: ["name", "cca2"] });
  assert.equal(all.length, 250);
  assert.deepEqual(codes(all), expected(() => true));
  for (const c of all) assert.deepEqual(Object.keys(c).sort(), ["cca2", "name"]);
  const independent = await client.getCountries({ independent: true, fields: ["cca2"] });
  assert.deepEqual(codes(independent), expected((c) => c.independent === true));
  const dependent = await client.getCountries({ independent: false, fields: ["cca2"] });
  assert.deepEqual(codes(dependent), expected((c) => c.independent !== true));
});

test("one country by code: the whole document, or the fields as one object", async () => {
  assert.deepEqual(await client.getCountryByCode({ code: "PY" }), byCode("PY"));
  assert.deepEqual(await client.getCountryByCode({ code: "PRY", fields: ["name", "capital"] }), {
    name: byCode("PY").name,
    capital: byCode("PY").capital,
  });
  const some = await client.getCountriesByCodes({ codes: ["USA", "FRA", "JPN"], fields: ["cca2"] });
  assert.deepEqual(codes(some), new Set(["US", "FR", "JP"]));
});

test("currency, language, name, region and subregion, as v3.1 matched them", async () => {
  const eur = await client.getCountriesByCurrency({ currency: "EUR", fields: ["cca2"] });
  assert.deepEqual(
    codes(eur),
    expected((c) => Object.entries(c.currencies ?? {}).some(([k, v]) => lower(k) === "eur" || lower(v.name).includes("eur"))),
  );
  const spanish = await client.getCountriesByLang({ lang: "Spanish", fields: ["cca2"] });
  assert.deepEqual(
    codes(spanish),
    expected((c) => Object.entries(c.languages ?? {}).some(([k, v]) => lower(k) === "spanish" || lower(v) === "spanish")),
  );
  const united = await client.getCountriesByName({ name: "united", fields: ["cca2"] });
  assert.deepEqual(
    codes(united),
    expected((c) => lower(c.name.common).includes("united") || lower(c.name.official).includes("united") || c.altSpellings.some((a) => lower(a).includes("united"))),
  );
  const finland = await client.getCountriesByName({ name: "Finland", fullText: true });
  assert.deepEqual(finland, [byCode("FI")]);
  const asia = await client.getCountriesByRegion({ region: "Asia", fields: ["cca2"] });
  assert.deepEqual(codes(asia), expected((c) => lower(c.region).includes("asia") || lower(c.subregion) === "asia"));
  const north = await client.getCountriesBySubregion({ subregion: "Northern Europe", fields: ["cca2"] });
  assert.deepEqual(codes(north), expected((c) => lower(c.subregion ?? "").includes("northern europe")));
});

test("the first country by capital, demonym and translation", async () => {
  assert.deepEqual(await client.getCountryByCapital({ capital: "Tallinn" }), byCode("EE"));
  assert.equal((await client.getCountryByDemonym({ demonym: "peruvian" })).cca2, "PE");
  const germany = await client.getCountryByTranslation({ translation: "Saksamaa" });
  assert.equal(germany.cca2, "DE");
});

test("no match is the client's null, from v3.1's 404", async () => {
  assert.equal(await client.getCountriesByName({ name: "atlantis" }), null);
  assert.equal(await client.getCountryByCode({ code: "ZZ" }), null);
});

test("every request went to the service", () => {
  assert.ok(requested.length >= 15, `${requested.length} requests`);
  for (const url of requested) assert.ok(url.startsWith(`${base}/v3.1/`), url);
});
