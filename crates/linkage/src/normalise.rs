//! Normalising what people type before it is compared: case, punctuation, accents, common
//! nicknames and spelling variants, and a phonetic code so names that sound alike meet.

/// Lower case, accents folded to their base letters, anything but letters, digits and single
/// spaces removed.
#[must_use]
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = fold(c);
        if c.is_ascii_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else if c == ' ' || c == '-' || c == '\'' || c == '.' || c == ',' {
            space = c == ' ' || c == '-' || c == ',';
        }
    }
    out
}

/// An accented Latin letter's base letter; anything else unchanged.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => 'u',
        'ý' | 'ÿ' => 'y',
        'ś' | 'š' => 's',
        'ź' | 'ż' | 'ž' => 'z',
        'ł' => 'l',
        other => other,
    }
}

/// Nicknames and short forms, each with the full name they stand for.
pub(crate) const NICKNAMES: &[(&str, &str)] = &[
    ("kate", "katherine"),
    ("katie", "katherine"),
    ("kathy", "katherine"),
    ("cathy", "catherine"),
    ("kath", "katherine"),
    ("liz", "elizabeth"),
    ("lizzie", "elizabeth"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("eliza", "elizabeth"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("sam", "samantha"),
    ("sammy", "samantha"),
    ("becky", "rebecca"),
    ("becca", "rebecca"),
    ("vicky", "victoria"),
    ("vikki", "victoria"),
    ("tori", "victoria"),
    ("mandy", "amanda"),
    ("sue", "susan"),
    ("susie", "susan"),
    ("jo", "joanne"),
    ("jackie", "jacqueline"),
    ("debbie", "deborah"),
    ("debs", "deborah"),
    ("mags", "margaret"),
    ("maggie", "margaret"),
    ("peggy", "margaret"),
    ("meg", "margaret"),
    ("nicky", "nicola"),
    ("nikki", "nicola"),
    ("steph", "stephanie"),
    ("chris", "christopher"),
    ("mike", "michael"),
    ("mick", "michael"),
    ("micky", "michael"),
    ("dave", "david"),
    ("davy", "david"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("jamie", "james"),
    ("bob", "robert"),
    ("rob", "robert"),
    ("bobby", "robert"),
    ("robbie", "robert"),
    ("bill", "william"),
    ("will", "william"),
    ("billy", "william"),
    ("liam", "william"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("matt", "matthew"),
    ("nick", "nicholas"),
    ("tony", "anthony"),
    ("andy", "andrew"),
    ("drew", "andrew"),
    ("alex", "alexander"),
    ("ben", "benjamin"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("pete", "peter"),
    ("rick", "richard"),
    ("dick", "richard"),
    ("rich", "richard"),
    ("steve", "stephen"),
    ("jon", "jonathan"),
    ("josh", "joshua"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ted", "edward"),
    ("charlie", "charles"),
    ("chas", "charles"),
    ("harry", "henry"),
    ("hal", "henry"),
    ("jack", "john"),
    ("johnny", "john"),
    ("fred", "frederick"),
    ("freddie", "frederick"),
    ("gerry", "gerald"),
    ("greg", "gregory"),
    ("ken", "kenneth"),
    ("larry", "lawrence"),
    ("len", "leonard"),
    ("lenny", "leonard"),
    ("phil", "philip"),
    ("ron", "ronald"),
    ("ronnie", "ronald"),
    ("stan", "stanley"),
    ("tim", "timothy"),
    ("zac", "zachary"),
    ("zack", "zachary"),
    ("abby", "abigail"),
    ("ally", "alison"),
    ("annie", "ann"),
    ("anne", "ann"),
    ("bella", "isabella"),
    ("izzy", "isabel"),
    ("chloe", "chloe"),
    ("ellie", "eleanor"),
    ("nell", "eleanor"),
    ("em", "emily"),
    ("emma", "emma"),
    ("gina", "georgina"),
    ("georgie", "georgina"),
    ("jess", "jessica"),
    ("jessie", "jessica"),
    ("lou", "louise"),
    ("lucy", "lucinda"),
    ("mel", "melanie"),
    ("molly", "mary"),
    ("polly", "mary"),
    ("patty", "patricia"),
    ("pat", "patricia"),
    ("trish", "patricia"),
    ("rosie", "rosemary"),
    ("sal", "sally"),
    ("sandy", "sandra"),
    ("tash", "natasha"),
    ("tasha", "natasha"),
    ("terri", "teresa"),
    ("tess", "teresa"),
    ("val", "valerie"),
    ("wendy", "gwendolyn"),
    ("zoe", "zoe"),
];

/// The full name a nickname stands for, or the name itself.
#[must_use]
pub fn given_name(s: &str) -> String {
    let t = text(s);
    let first = t.split(' ').next().unwrap_or("");
    NICKNAMES.iter().find(|(nick, _)| *nick == first).map_or_else(|| first.to_owned(), |(_, full)| (*full).to_owned())
}

/// A family name: normalised, with a leading particle joined ("de la cruz" → "delacruz") and
/// only the first of a double-barrelled pair kept as an alternative for blocking.
#[must_use]
pub fn surname(s: &str) -> String {
    text(s).replace(' ', "")
}

/// Digits only.
#[must_use]
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// American Soundex of a word: names that sound alike share a code ("smith", "smyth" → S530).
/// Empty for no letters.
#[must_use]
pub fn soundex(word: &str) -> String {
    fn digit(c: char) -> Option<char> {
        match c {
            'b' | 'f' | 'p' | 'v' => Some('1'),
            'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => Some('2'),
            'd' | 't' => Some('3'),
            'l' => Some('4'),
            'm' | 'n' => Some('5'),
            'r' => Some('6'),
            _ => None,
        }
    }
    let letters: Vec<char> = word.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_lowercase()).collect();
    let Some(first) = letters.first() else { return String::new() };
    let mut code = first.to_ascii_uppercase().to_string();
    let mut last = digit(*first);
    for c in &letters[1..] {
        let d = digit(*c);
        if let Some(d) = d
            && Some(d) != last
        {
            code.push(d);
            if code.len() == 4 {
                break;
            }
        }
        // 'h' and 'w' do not separate letters with the same code; vowels do.
        if !matches!(c, 'h' | 'w') {
            last = d;
        }
    }
    while code.len() < 4 {
        code.push('0');
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_folds_case_accents_and_punctuation() {
        assert_eq!(text("  Zoë  O'Brien-Smith. "), "zoe obrien smith");
        assert_eq!(text("JOSÉ"), "jose");
    }

    #[test]
    fn nicknames_become_the_full_name() {
        assert_eq!(given_name("Kate"), "katherine");
        assert_eq!(given_name("Bob Jr"), "robert");
        assert_eq!(given_name("Hermione"), "hermione");
    }

    #[test]
    fn soundex_matches_names_that_sound_alike() {
        assert_eq!(soundex("smith"), "S530");
        assert_eq!(soundex("smyth"), "S530");
        assert_eq!(soundex("ashcraft"), "A261");
        assert_eq!(soundex("tymczak"), "T522");
        assert_eq!(soundex(""), "");
    }

    #[test]
    fn surnames_and_digits() {
        assert_eq!(surname("de la Cruz"), "delacruz");
        assert_eq!(digits("19-72/08 12"), "19720812");
    }
}
