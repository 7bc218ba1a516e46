//! What an uploaded sound is, read from its bytes, and whether FreeSWITCH can play it:
//! WAV through mod_sndfile (libsndfile reads PCM, float, A-law and µ-law at any common
//! rate; FreeSWITCH resamples), MP3 only through mod_shout, which a switch may not load.

/// A sound FreeSWITCH can play.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// `wav` or `mp3`: what the file's name must end in.
    pub kind: &'static str,
    /// Length in seconds, when the header says (WAV).
    pub seconds: Option<f64>,
}

/// The upload's first bytes (at least the WAV header's 64) and its whole length, checked;
/// `mp3_ok`: the switch has mod_shout. The error says why, in the user's terms.
pub fn check(head: &[u8], len: u64, mp3_ok: bool) -> Result<Audio, String> {
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        return wav(head, len);
    }
    if head.starts_with(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        if !mp3_ok {
            return Err("this switch cannot play MP3 (its mod_shout is not loaded): upload a WAV file instead".into());
        }
        return Ok(Audio { kind: "mp3", seconds: None });
    }
    Err("not a WAV or MP3 file".into())
}

fn wav(b: &[u8], len: u64) -> Result<Audio, String> {
    let u16_at = |i: usize| b.get(i..i + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let u32_at = |i: usize| b.get(i..i + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    // The chunks after "WAVE": fmt first (as every writer puts it), then data.
    let mut at = 12;
    let mut fmt = None;
    let mut data = None;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let size = u32_at(at + 4).unwrap_or(0) as usize;
        if id == b"fmt " {
            fmt = Some(at + 8);
        } else if id == b"data" {
            data = Some(size as u64);
            break;
        }
        at += 8 + size + (size & 1);
    }
    let f = fmt.ok_or("a WAV file without its format chunk")?;
    let (format, channels, rate, byte_rate, bits) =
        (u16_at(f).unwrap_or(0), u16_at(f + 2).unwrap_or(0), u32_at(f + 4).unwrap_or(0), u32_at(f + 8).unwrap_or(0), u16_at(f + 14).unwrap_or(0));
    // PCM, IEEE float, A-law, µ-law, and the extensible form of those.
    if ![1, 3, 6, 7, 0xFFFE].contains(&format) {
        return Err(format!("a compressed WAV (format {format:#06x}) the switch cannot play: save it as PCM"));
    }
    if !(1..=2).contains(&channels) {
        return Err(format!("{channels} channels: a sound is mono or stereo"));
    }
    if ![8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000].contains(&rate) {
        return Err(format!("a sample rate of {rate} Hz: use 8000, 16000, 32000, 44100 or 48000"));
    }
    if ![8, 16, 24, 32].contains(&bits) {
        return Err(format!("{bits}-bit samples: use 16-bit"));
    }
    let data = data.map_or(len.saturating_sub(at as u64 + 8), |d| d.min(len));
    let seconds = (byte_rate > 0).then(|| data as f64 / byte_rate as f64);
    Ok(Audio { kind: "wav", seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn wav_header(format: u16, channels: u16, rate: u32, bits: u16, data: u32) -> Vec<u8> {
        let block = channels * bits / 8;
        let mut w = Vec::new();
        w.extend_from_slice(b"RIFF");
        w.extend_from_slice(&(36 + data).to_le_bytes());
        w.extend_from_slice(b"WAVEfmt ");
        w.extend_from_slice(&16u32.to_le_bytes());
        w.extend_from_slice(&format.to_le_bytes());
        w.extend_from_slice(&channels.to_le_bytes());
        w.extend_from_slice(&rate.to_le_bytes());
        w.extend_from_slice(&(rate * block as u32).to_le_bytes());
        w.extend_from_slice(&block.to_le_bytes());
        w.extend_from_slice(&bits.to_le_bytes());
        w.extend_from_slice(b"data");
        w.extend_from_slice(&data.to_le_bytes());
        w
    }

    #[test]
    fn a_plain_wav_is_playable_and_its_length_read() {
        let h = wav_header(1, 1, 8000, 16, 32000);
        assert_eq!(check(&h, 44 + 32000, false), Ok(Audio { kind: "wav", seconds: Some(2.0) }));
        assert!(check(&wav_header(7, 1, 8000, 8, 800), 844, false).is_ok(), "µ-law");
    }

    #[test]
    fn what_the_switch_cannot_play_is_refused_with_why() {
        assert!(check(&wav_header(0x11, 1, 8000, 4, 100), 144, true).unwrap_err().contains("save it as PCM"), "IMA ADPCM");
        assert!(check(&wav_header(1, 6, 48000, 16, 100), 144, true).unwrap_err().contains("6 channels"));
        assert!(check(&wav_header(1, 1, 12345, 16, 100), 144, true).unwrap_err().contains("12345 Hz"));
        assert!(check(b"ID3\x04\0\0\0\0\0\0", 1000, false).unwrap_err().contains("cannot play MP3"));
        assert_eq!(check(b"ID3\x04\0\0\0\0\0\0", 1000, true).map(|a| a.kind), Ok("mp3"));
        assert_eq!(check(b"%PDF-1.4 not a sound", 100, true).unwrap_err(), "not a WAV or MP3 file");
        assert!(check(b"RIFF\0\0\0\0WAVEdata\0\0\0\0", 20, true).unwrap_err().contains("format chunk"));
    }
}
