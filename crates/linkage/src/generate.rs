//! A seeded generator of person lists with known duplicates, for measuring the matcher at any
//! size: originals drawn from name, street and town vocabularies with a long tail (a few very
//! common surnames, many rare ones), and duplicates made with the noise real lists carry: typos,
//! respellings, nicknames, swapped names, changed surnames, mistyped dates and day/month swaps,
//! house moves and blanked fields. The same seed always gives the same file.

use crate::Record;
use crate::normalise::NICKNAMES;

/// xorshift64*: small, fast and reproducible; the data only needs to look random.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is replaced).
    #[must_use]
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        #[allow(clippy::cast_precision_loss, reason = "a 53-bit fraction is all a coin needs")]
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// An index skewed towards the start (falling linearly), so early entries are the most
    /// common without any one of them dominating.
    pub fn skewed(&mut self, n: usize) -> usize {
        self.below(n).min(self.below(n))
    }
}

const GIVEN: &[&str] = &[
    "olivia",
    "amelia",
    "isla",
    "ava",
    "mia",
    "grace",
    "sophia",
    "lily",
    "freya",
    "emily",
    "ella",
    "poppy",
    "charlotte",
    "evie",
    "isabella",
    "sophie",
    "jessica",
    "chloe",
    "ruby",
    "daisy",
    "hannah",
    "lucy",
    "holly",
    "amy",
    "laura",
    "emma",
    "sarah",
    "rachel",
    "claire",
    "gemma",
    "nicola",
    "joanne",
    "lisa",
    "karen",
    "donna",
    "tracey",
    "dawn",
    "julie",
    "angela",
    "helen",
    "michelle",
    "louise",
    "kelly",
    "zoe",
    "leanne",
    "natalie",
    "danielle",
    "stacey",
    "jade",
    "aisha",
    "fatima",
    "priya",
    "anjali",
    "amina",
    "maryam",
    "zainab",
    "oksana",
    "agnieszka",
    "katarzyna",
    "ioana",
    "siobhan",
    "niamh",
    "aoife",
    "bronwen",
    "carys",
    "eleri",
    "megan",
    "oliver",
    "george",
    "harry",
    "jack",
    "jacob",
    "noah",
    "charlie",
    "muhammad",
    "thomas",
    "oscar",
    "william",
    "james",
    "leo",
    "alfie",
    "henry",
    "joshua",
    "freddie",
    "archie",
    "ethan",
    "isaac",
    "alexander",
    "joseph",
    "daniel",
    "adam",
    "ryan",
    "liam",
    "connor",
    "kieran",
    "jordan",
    "lee",
    "craig",
    "darren",
    "wayne",
    "dean",
    "gareth",
    "rhys",
    "dylan",
    "owen",
    "tariq",
    "imran",
    "bilal",
    "kwame",
    "kofi",
    "tomasz",
    "piotr",
    "andrei",
    "mohammed",
    "yusuf",
    "ibrahim",
    "callum",
    "ross",
    "jamie",
    "scott",
    "mark",
    "paul",
    "steven",
    "neil",
];

const SURNAMES: &[&str] = &[
    "smith",
    "jones",
    "williams",
    "taylor",
    "brown",
    "davies",
    "evans",
    "wilson",
    "thomas",
    "johnson",
    "roberts",
    "robinson",
    "thompson",
    "wright",
    "walker",
    "white",
    "edwards",
    "hughes",
    "green",
    "hall",
    "lewis",
    "harris",
    "clarke",
    "patel",
    "jackson",
    "wood",
    "turner",
    "martin",
    "cooper",
    "hill",
    "ward",
    "morris",
    "moore",
    "clark",
    "lee",
    "king",
    "baker",
    "harrison",
    "morgan",
    "allen",
    "james",
    "scott",
    "phillips",
    "watson",
    "davis",
    "parker",
    "price",
    "bennett",
    "young",
    "griffiths",
    "mitchell",
    "kelly",
    "cook",
    "carter",
    "richardson",
    "bailey",
    "collins",
    "bell",
    "shaw",
    "murphy",
    "miller",
    "cox",
    "richards",
    "khan",
    "marshall",
    "anderson",
    "simpson",
    "ellis",
    "adams",
    "singh",
    "begum",
    "wilkinson",
    "foster",
    "chapman",
    "powell",
    "webb",
    "rogers",
    "gray",
    "mason",
    "ali",
    "hunt",
    "hussain",
    "campbell",
    "matthews",
    "owen",
    "palmer",
    "holmes",
    "mills",
    "barnes",
    "knight",
    "lloyd",
    "butler",
    "russell",
    "barker",
    "fisher",
    "stevens",
    "jenkins",
    "murray",
    "dixon",
    "harvey",
    "kowalski",
    "nowak",
    "okafor",
    "mensah",
    "ahmed",
    "rahman",
    "chowdhury",
    "o'brien",
    "mcdonald",
    "macleod",
];

/// Syllables for the long tail of rare surnames, streets and towns.
const SYLLABLES: &[&str] = &[
    "ash", "bar", "bel", "brook", "burn", "cal", "car", "chester", "col", "dale", "den", "don", "ell", "far", "ford",
    "gate", "ham", "har", "hay", "hol", "ing", "ken", "kirk", "lan", "ley", "low", "mar", "mer", "mill", "mor", "nor",
    "pen", "ring", "ros", "sel", "stan", "ston", "thorn", "ton", "wal", "well", "win", "wood", "worth", "ridge",
    "field", "by", "wick", "stead", "combe",
];

const STREET_KINDS: &[&str] = &["street", "road", "avenue", "close", "lane", "drive", "way", "crescent", "grove"];
const COUNTIES: &[&str] = &["northshire", "southshire", "eastshire", "westshire", "midshire", "fenshire"];

fn coined(rng: &mut Rng, parts: usize) -> String {
    (0..parts).map(|_| rng.pick(SYLLABLES)).collect()
}

fn surname(rng: &mut Rng) -> String {
    // About half from the common list (the head of the distribution), half coined (the tail).
    if rng.chance(0.5) {
        SURNAMES[rng.skewed(SURNAMES.len())].to_owned()
    } else {
        let parts = 2 + rng.below(2);
        coined(rng, parts)
    }
}

fn address(rng: &mut Rng, r: &mut Record, towns: usize) {
    let town = rng.below(towns);
    let mut t = Rng::new(town as u64 + 17);
    r.suburb = coined(&mut t, 2);
    r.postcode = format!("{}", 1000 + town);
    r.state = t.pick(COUNTIES).to_owned();
    r.street_number = format!("{}", 1 + rng.skewed(300));
    r.address_1 = format!("{} {}", coined(rng, 2), rng.pick(STREET_KINDS));
    r.address_2 = if rng.chance(0.3) { format!("{} house", coined(rng, 2)) } else { String::new() };
}

fn original(rng: &mut Rng, n: usize, towns: usize) -> Record {
    let mut r = Record {
        id: format!("r{n:08}"),
        given_name: GIVEN[rng.skewed(GIVEN.len())].to_owned(),
        surname: surname(rng),
        ..Record::default()
    };
    let (y, m, d) = (1930 + rng.below(80), 1 + rng.below(12), 1 + rng.below(28));
    r.date_of_birth = format!("{y:04}{m:02}{d:02}");
    address(rng, &mut r, towns);
    r
}

/// One keyboard slip: a letter inserted, dropped, changed or two swapped.
fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 2 {
        return s.to_owned();
    }
    let i = rng.below(c.len() - 1);
    let letter = char::from(b'a' + u8::try_from(rng.below(26)).unwrap_or(0));
    match rng.below(4) {
        0 => c.insert(i, letter),
        1 => {
            c.remove(i);
        }
        2 => c[i] = letter,
        _ => c.swap(i, i + 1),
    }
    c.into_iter().collect()
}

/// A spelling that sounds the same.
fn respelling(rng: &mut Rng, s: &str) -> String {
    const SWAPS: &[(&str, &str)] =
        &[("ph", "f"), ("th", "t"), ("ck", "k"), ("y", "ie"), ("ie", "y"), ("i", "y"), ("ll", "l"), ("nn", "n")];
    let start = rng.below(SWAPS.len());
    for k in 0..SWAPS.len() {
        let (from, to) = SWAPS[(start + k) % SWAPS.len()];
        if let Some(at) = s.find(from) {
            return format!("{}{to}{}", &s[..at], &s[at + from.len()..]);
        }
    }
    typo(rng, s)
}

fn digit_typo(rng: &mut Rng, dob: &str) -> String {
    let mut c: Vec<char> = dob.chars().collect();
    if c.len() != 8 {
        return dob.to_owned();
    }
    if rng.chance(0.5) {
        let i = 2 + rng.below(6);
        c[i] = char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0));
    } else {
        let i = 4 + rng.below(3);
        c.swap(i, i + 1);
    }
    c.into_iter().collect()
}

/// Day and month the other way round, where the day could be a month; else a digit typo.
fn day_month_swap(rng: &mut Rng, dob: &str) -> String {
    match (dob.get(..4), dob.get(4..6), dob.get(6..8)) {
        (Some(y), Some(m), Some(d)) if d.parse::<u8>().is_ok_and(|x| (1..=12).contains(&x)) => format!("{y}{d}{m}"),
        _ => digit_typo(rng, dob),
    }
}

/// A copy of `r` with one to three kinds of noise.
fn duplicate(rng: &mut Rng, r: &Record, id: String, towns: usize) -> Record {
    let mut d = Record { id, ..r.clone() };
    // Most copies differ in one way, some in two, a few in three.
    let changes = match rng.below(10) {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    for _ in 0..changes {
        match rng.below(11) {
            0 | 1 => d.given_name = typo(rng, &d.given_name),
            2 => d.surname = typo(rng, &d.surname),
            3 => d.surname = respelling(rng, &d.surname),
            4 => {
                let known: Vec<&str> =
                    NICKNAMES.iter().filter(|(_, full)| *full == d.given_name).map(|(nick, _)| *nick).collect();
                d.given_name =
                    if known.is_empty() { respelling(rng, &d.given_name) } else { rng.pick(&known).to_owned() };
            }
            5 => std::mem::swap(&mut d.given_name, &mut d.surname),
            6 => d.surname = surname(rng),
            7 => d.date_of_birth = digit_typo(rng, &d.date_of_birth),
            8 => d.date_of_birth = day_month_swap(rng, &d.date_of_birth),
            9 => address(rng, &mut d, towns),
            _ => match rng.below(4) {
                0 => d.given_name.clear(),
                1 => d.date_of_birth.clear(),
                2 => d.postcode.clear(),
                _ => {
                    d.street_number.clear();
                    d.address_1.clear();
                }
            },
        }
    }
    d
}

/// `n` records, about a third of them duplicates of another, and every true pair (by index).
/// Records are shuffled so duplicates are not next to each other.
#[must_use]
pub fn generate(n: usize, seed: u64) -> (Vec<Record>, Vec<(usize, usize)>) {
    let mut rng = Rng::new(seed);
    // One town per 250 people keeps towns and postcodes about as crowded as in real lists.
    let towns = (n / 250).max(10);
    let mut records: Vec<Record> = Vec::with_capacity(n);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    while records.len() < n {
        let first = records.len();
        let o = original(&mut rng, first, towns);
        // Most people once; some twice; a few up to five times.
        let copies = match rng.below(10) {
            0..=5 => 0,
            6..=8 => 1,
            _ => 2 + rng.below(3),
        }
        .min(n - first - 1);
        records.push(o.clone());
        for c in 0..copies {
            let id = format!("r{:08}", first + 1 + c);
            records.push(duplicate(&mut rng, &o, id, towns));
        }
        groups.push((first..first + 1 + copies).collect());
    }
    // Shuffle (Fisher-Yates) and renumber so ids say nothing.
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut position = vec![0; n];
    for (new, old) in order.iter().enumerate() {
        position[*old] = new;
    }
    let mut slots: Vec<Option<Record>> = records.into_iter().map(Some).collect();
    let mut shuffled: Vec<Record> = order.iter().filter_map(|old| slots[*old].take()).collect();
    for (i, r) in shuffled.iter_mut().enumerate() {
        r.id = format!("g{:08x}", (i as u64).wrapping_mul(0x9e37_79b9) & 0xffff_ffff);
    }
    let mut truth = Vec::new();
    for g in groups {
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                let (x, y) = (position[*a], position[*b]);
                truth.push((x.min(y), x.max(y)));
            }
        }
    }
    truth.sort_unstable();
    (shuffled, truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_list_and_duplicates_are_recorded() {
        let (a, truth) = generate(2_000, 7);
        let (b, _) = generate(2_000, 7);
        assert_eq!(a, b);
        assert_eq!(a.len(), 2_000);
        let ids: std::collections::HashSet<&str> = a.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 2_000, "ids are unique");
        assert!(truth.len() > 400 && truth.len() < 1_500, "{}", truth.len());
        assert!(truth.iter().all(|(x, y)| x < y && *y < a.len()));
        assert_ne!(generate(2_000, 8).0, a);
    }
}
