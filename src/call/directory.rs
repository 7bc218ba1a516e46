//! `*411`, dial by name: the caller keys the first letters of a first or last name, hears
//! each match spelled with its extension number, and presses 1 to be put through — through
//! the normal routing, so the extension's DND, forwarding and voicemail apply.

use std::time::Duration;

use tracing::info;

use super::channel::{Ask, Channel};
use super::state::{Call, RouteError};
use crate::pbx::destination::Destination;

const ENTER_NAME: &str = "directory/dir-enter_person_first_or_last.wav";
const AT_EXTENSION: &str = "directory/dir-at_extension.wav";
const TO_SELECT: &str = "directory/dir-to_select_entry.wav";
const NO_MATCH: &str = "directory/dir-no_matching_results.wav";
const GOODBYE: &str = "voicemail/vm-goodbye.wav";
const SILENCE: &str = "silence_stream://250";
/// Searches before the caller is sent away.
const TRIES: usize = 3;
/// Letters keyed per search.
const LETTERS: usize = 3;

/// The telephone keypad digit of a letter (ITU E.161).
fn key(c: char) -> Option<char> {
    let d = match c.to_ascii_lowercase() {
        'a'..='c' => '2',
        'd'..='f' => '3',
        'g'..='i' => '4',
        'j'..='l' => '5',
        'm'..='o' => '6',
        'p'..='s' => '7',
        't'..='v' => '8',
        'w'..='z' => '9',
        _ => return None,
    };
    Some(d)
}

/// Whether `digits` key the start of the first or the last word of `name`.
pub fn name_matches(name: &str, digits: &str) -> bool {
    let words: Vec<&str> = name.split_whitespace().collect();
    let starts = |w: &str| {
        let keyed: String = w.chars().filter_map(key).take(digits.len()).collect();
        keyed == digits
    };
    !digits.is_empty() && (words.first().is_some_and(|w| starts(w)) || words.last().is_some_and(|w| starts(w)))
}

/// A name as `say … name_spelled` may receive it: ASCII letters only, so nothing the admin
/// typed reaches the switch as anything but letters.
fn spellable(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphabetic() || *c == ' ').take(40).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs the directory; the chosen extension, if any.
pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>) -> Result<Option<Destination>, RouteError> {
    call.answer().await?;
    let entries = call.read(|st, t| st.directory(t)).await?;
    let search = Ask {
        min: 1,
        max: LETTERS as u32,
        tries: 1,
        timeout: Duration::from_secs(5),
        terminators: "#",
        prompt: ENTER_NAME,
        invalid_prompt: SILENCE,
        regex: r"^[2-9]+$",
        digit_timeout: Duration::from_secs(3),
    };
    let select = Ask {
        min: 0,
        max: 1,
        tries: 1,
        timeout: Duration::from_secs(3),
        terminators: "#",
        prompt: TO_SELECT,
        invalid_prompt: SILENCE,
        regex: r"^\d$",
        digit_timeout: Duration::from_secs(1),
    };
    for _ in 0..TRIES {
        let digits = call.ch.read_digits(&search).await?;
        let matches: Vec<&(i64, String, String)> = entries.iter().filter(|(_, _, name)| name_matches(name, &digits)).take(9).collect();
        info!(digits = %digits, matches = matches.len(), "directory search");
        if matches.is_empty() {
            call.ch.play(NO_MATCH).await?;
            continue;
        }
        for (id, number, name) in matches {
            for word in spellable(name).split(' ').filter(|w| !w.is_empty()) {
                call.ch.run("say", &format!("en name_spelled iterated {word}")).await?;
            }
            call.ch.play(AT_EXTENSION).await?;
            call.ch.run("say", &format!("en number iterated {number}")).await?;
            if call.ch.read_digits(&select).await? == "1" {
                info!(extension = %number, "directory: put through");
                return Ok(Some(Destination::Extension { id: *id }));
            }
        }
    }
    call.ch.play(GOODBYE).await?;
    call.ch.hangup("NORMAL_CLEARING").await?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_or_last_name_by_keypad() {
        assert!(name_matches("Jane User", "526")); // J-A-N
        assert!(name_matches("Jane User", "873")); // U-S-E
        assert!(name_matches("Mary Ann Smith", "764")); // S-M-I, the last word
        assert!(!name_matches("Jane User", "527"));
        assert!(!name_matches("Jane User", ""));
        assert!(name_matches("O'Brien", "62")); // the apostrophe has no key
    }

    #[test]
    fn spelled_names_are_letters_only() {
        assert_eq!(spellable("Jane ${x} O'Brien, 3rd"), "Jane x OBrien rd");
    }
}
