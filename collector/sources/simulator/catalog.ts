/**
 * The things a sale is made of: consigned vehicles, sellers, staff and dealer numbers. All names
 * are invented; VINs are well-formed (valid check digit and model-year code) but random.
 */
import type { Random } from './random';

export interface Vehicle {
  vin: string;
  year: number;
  make: string;
  model: string;
  /** Market value (Manheim Market Report style), whole dollars. */
  mmr: number;
  /** The seller's reserve: below it the vehicle is at best an if-sale. */
  floor: number;
  seller: string;
}

/** [make, model, world manufacturer id, value of a 3-year-old unit in $]. */
const MODELS: readonly (readonly [string, string, string, number])[] = [
  ['Ford', 'F-150', '1FT', 33000],
  ['Ford', 'Explorer', '1FM', 25000],
  ['Ford', 'Escape', '1FM', 16000],
  ['Ford', 'Fusion', '3FA', 12500],
  ['Chevrolet', 'Silverado 1500', '1GC', 32000],
  ['Chevrolet', 'Equinox', '2GN', 15500],
  ['Chevrolet', 'Malibu', '1G1', 13000],
  ['Chevrolet', 'Tahoe', '1GN', 41000],
  ['Toyota', 'Camry', '4T1', 20000],
  ['Toyota', 'Corolla', '5YF', 16000],
  ['Toyota', 'RAV4', '2T3', 23000],
  ['Toyota', 'Tacoma', '3TM', 29000],
  ['Honda', 'Accord', '1HG', 20000],
  ['Honda', 'Civic', '2HG', 17000],
  ['Honda', 'CR-V', '7FA', 22000],
  ['Nissan', 'Altima', '1N4', 14500],
  ['Nissan', 'Rogue', '5N1', 16500],
  ['Nissan', 'Sentra', '3N1', 12500],
  ['Jeep', 'Grand Cherokee', '1C4', 25000],
  ['Jeep', 'Wrangler', '1C4', 28000],
  ['Ram', '1500', '1C6', 31000],
  ['Hyundai', 'Elantra', '5NP', 13500],
  ['Hyundai', 'Tucson', 'KM8', 17500],
  ['Kia', 'Sorento', '5XY', 18000],
  ['GMC', 'Sierra 1500', '3GT', 35000],
  ['Dodge', 'Charger', '2C3', 19000],
  ['Subaru', 'Outback', '4S4', 20500],
  ['BMW', 'X3', '5UX', 27000],
];

const SELLERS = [
  'Lone Star Fleet Remarketing',
  'Red River Auto Credit',
  'Trinity Motor Finance',
  'Metroplex Motors',
  'Prairie Rent-A-Car',
  'Bluebonnet Ford',
  'Pecos Lease Returns',
  'Canyon Creek Chevrolet',
  'Gulf Coast Dealer Services',
  'Brazos Valley Toyota',
  'Frontier Bank Repossessions',
  'Hill Country Honda',
];

const FIRST_NAMES = [
  'Alma', 'Beau', 'Carla', 'Dale', 'Eddie', 'Faye', 'Gus', 'Hank', 'Ida', 'Jolene', 'Kurt', 'Lacey',
  'Manny', 'Nora', 'Otis', 'Paula', 'Quinn', 'Rusty', 'Shelby', 'Tate', 'Ursula', 'Vern', 'Wanda',
  'Wes', 'Yvette', 'Zeke', 'Bonnie', 'Clint', 'Darla', 'Earl', 'Georgia', 'Hollis',
]; // prettier-ignore

const LAST_NAMES = [
  'Abernathy', 'Boone', 'Castillo', 'Delgado', 'Ellison', 'Fontaine', 'Garza', 'Hargrove', 'Ingram',
  'Jessup', 'Kimball', 'Lowery', 'Maddox', 'Navarro', 'Oakley', 'Pruitt', 'Quintero', 'Ramsey',
  'Sutton', 'Tillman', 'Underwood', 'Vance', 'Whitaker', 'Yates', 'Zamora', 'Beasley', 'Crockett',
  'Dawson', 'Eubanks', 'Fletcher', 'Gaines', 'Holt',
]; // prettier-ignore

/** `count` distinct invented people, e.g. auctioneers and clerks for every lane. */
export function drawPeople(rng: Random, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`);
  return [...names];
}

/** Distinct 7-digit dealer numbers: the opaque ids bidders and buyers carry. */
export function drawDealers(rng: Random, count: number): string[] {
  const ids = new Set<string>();
  while (ids.size < count) ids.add(String(rng.int(5_000_000, 5_999_999)));
  return [...ids];
}

export function drawVehicle(rng: Random, saleYear: number): Vehicle {
  const [make, model, wmi, value] = rng.pick(MODELS);
  const age = rng.int(1, 11);
  // Roughly 12 % a year off the 3-year-old value, and condition/mileage spread on top.
  const raw = value * Math.pow(0.88, age - 3) * rng.lognormal(1, 0.15);
  const mmr = Math.round(Math.min(45000, Math.max(5000, raw)) / 50) * 50;
  const floorShare = Math.min(1.12, Math.max(0.72, rng.normal(0.93, 0.08)));
  return {
    vin: drawVin(rng, wmi, saleYear - age),
    year: saleYear - age,
    make,
    model,
    mmr,
    floor: Math.round((mmr * floorShare) / 100) * 100,
    seller: rng.pick(SELLERS),
  };
}

const VIN_CHARS = [...'ABCDEFGHJKLMNPRSTUVWXYZ0123456789'];
// Model-year codes repeat every 30 years; 1980 and 2010 are both 'A'.
const YEAR_CODES = 'ABCDEFGHJKLMNPRSTVWXY123456789';
const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
const TRANSLITERATION: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5,
  P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
}; // prettier-ignore

function drawVin(rng: Random, wmi: string, year: number): string {
  let descriptor = '';
  for (let i = 0; i < 5; i++) descriptor += rng.pick(VIN_CHARS);
  const plant = rng.pick(VIN_CHARS);
  const serial = String(rng.int(100000, 999999));
  const yearCode = YEAR_CODES[(((year - 1980) % 30) + 30) % 30] ?? 'A';
  const body = `${wmi}${descriptor}0${yearCode}${plant}${serial}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i);
    sum += (TRANSLITERATION[c] ?? Number(c)) * (VIN_WEIGHTS[i] ?? 0);
  }
  const check = sum % 11 === 10 ? 'X' : String(sum % 11);
  return `${body.slice(0, 8)}${check}${body.slice(9)}`;
}
