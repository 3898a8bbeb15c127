//! A placeholder MP4 the server makes when a video fixture gives no bytes: a valid ISO base media
//! file (`ftyp`, `moov` with one video track, `mdat`) holding one uncompressed RGB frame (the
//! QuickTime `raw ` sample entry, which ffmpeg's demuxer reads as `rawvideo`) shown for the whole
//! duration, in one colour chosen from a seed. Small (a few hundred bytes of frame), and every box
//! a reader walks is there: `mvhd`, `tkhd`, `mdhd`, `hdlr`, `vmhd`, `dinf`/`dref`, and the sample
//! table (`stsd`, `stts`, `stsc`, `stsz`, `stco`) pointing at the frame in `mdat`.

/// The frame's size for a requested `width` x `height`: a tenth-ish of it, in multiples of 4
/// (rows of whole 32-bit words), at least 4 and at most 64 pixels a side.
pub(crate) fn frame_size(width: u32, height: u32) -> (u16, u16) {
    let side = |v: u32| ((v / 80).clamp(1, 16) * 4) as u16;
    (side(width), side(height))
}

/// A valid MP4 of `seconds` (at least one millisecond) whose one frame is `width` x `height`
/// pixels (see [`frame_size`]) of one colour chosen from `seed`.
pub(crate) fn placeholder_mp4(width: u32, height: u32, seconds: f64, seed: &str) -> Vec<u8> {
    let (w, h) = frame_size(width, height);
    let h64 = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let rgb = [(h64 >> 16) as u8, (h64 >> 8) as u8, h64 as u8];
    let frame: Vec<u8> = rgb
        .iter()
        .copied()
        .cycle()
        .take(usize::from(w) * usize::from(h) * 3)
        .collect();
    const TIMESCALE: u32 = 1000;
    let duration = (seconds.clamp(0.001, 86_400.0) * f64::from(TIMESCALE)).round() as u32;

    let ftyp = boxed(
        b"ftyp",
        &cat(&[b"isom", &u32b(0x200), b"isom", b"iso2", b"mp41"]),
    );
    // The moov is built twice: the chunk offset (where the frame starts) depends on its length,
    // which does not depend on the offset's value.
    let moov_with = |offset: u32| moov(w, h, duration, TIMESCALE, frame.len() as u32, offset);
    let moov_len = moov_with(0).len();
    let offset = (ftyp.len() + moov_len + 8) as u32;
    let moov = moov_with(offset);
    let mdat = boxed(b"mdat", &frame);
    cat(&[&ftyp, &moov, &mdat])
}

fn u32b(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn u16b(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A box: its size, its type, its payload.
fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    cat(&[&u32b(8 + payload.len() as u32), kind, payload])
}

/// A full box: version 0 and `flags` before the payload.
fn full(kind: &[u8; 4], flags: u32, payload: &[u8]) -> Vec<u8> {
    boxed(kind, &cat(&[&u32b(flags & 0x00ff_ffff), payload]))
}

/// The unity transformation matrix (16.16 and 2.30 fixed point).
fn matrix() -> Vec<u8> {
    [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

fn moov(w: u16, h: u16, duration: u32, timescale: u32, sample: u32, offset: u32) -> Vec<u8> {
    let mvhd = full(
        b"mvhd",
        0,
        &cat(&[
            &u32b(0), // creation time
            &u32b(0), // modification time
            &u32b(timescale),
            &u32b(duration),
            &u32b(0x0001_0000), // rate 1.0
            &u16b(0x0100),      // volume 1.0
            &[0; 10],           // reserved
            &matrix(),
            &[0; 24], // pre-defined
            &u32b(2), // next track id
        ]),
    );
    let tkhd = full(
        b"tkhd",
        0x3, // enabled, in movie
        &cat(&[
            &u32b(0),
            &u32b(0),
            &u32b(1), // track id
            &u32b(0),
            &u32b(duration),
            &[0; 8],
            &u16b(0), // layer
            &u16b(0), // alternate group
            &u16b(0), // volume (video)
            &u16b(0),
            &matrix(),
            &u32b(u32::from(w) << 16),
            &u32b(u32::from(h) << 16),
        ]),
    );
    let mdhd = full(
        b"mdhd",
        0,
        &cat(&[
            &u32b(0),
            &u32b(0),
            &u32b(timescale),
            &u32b(duration),
            &u16b(0x55c4), // language "und"
            &u16b(0),
        ]),
    );
    let hdlr = full(
        b"hdlr",
        0,
        &cat(&[&u32b(0), b"vide", &[0; 12], b"VideoHandler\0"]),
    );
    let vmhd = full(b"vmhd", 1, &[0; 8]);
    let dinf = boxed(
        b"dinf",
        &full(b"dref", 0, &cat(&[&u32b(1), &full(b"url ", 1, &[])])),
    );
    let mut compressor = [0u8; 32];
    let name = b"aimock placeholder";
    compressor[0] = name.len() as u8;
    compressor[1..=name.len()].copy_from_slice(name);
    let raw = boxed(
        b"raw ",
        &cat(&[
            &[0; 6],  // reserved
            &u16b(1), // data reference index
            &[0; 16], // pre-defined, reserved
            &u16b(w),
            &u16b(h),
            &u32b(0x0048_0000), // 72 dpi
            &u32b(0x0048_0000),
            &u32b(0),
            &u16b(1), // frames per sample
            &compressor,
            &u16b(24), // depth: RGB
            &u16b(0xffff),
        ]),
    );
    let stsd = full(b"stsd", 0, &cat(&[&u32b(1), &raw]));
    let stts = full(b"stts", 0, &cat(&[&u32b(1), &u32b(1), &u32b(duration)]));
    let stsc = full(b"stsc", 0, &cat(&[&u32b(1), &u32b(1), &u32b(1), &u32b(1)]));
    let stsz = full(b"stsz", 0, &cat(&[&u32b(0), &u32b(1), &u32b(sample)]));
    let stco = full(b"stco", 0, &cat(&[&u32b(1), &u32b(offset)]));
    let stbl = boxed(b"stbl", &cat(&[&stsd, &stts, &stsc, &stsz, &stco]));
    let minf = boxed(b"minf", &cat(&[&vmhd, &dinf, &stbl]));
    let mdia = boxed(b"mdia", &cat(&[&mdhd, &hdlr, &minf]));
    let trak = boxed(b"trak", &cat(&[&tkhd, &mdia]));
    boxed(b"moov", &cat(&[&mvhd, &trak]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boxes of `data`, as (type, payload); panics on a size that does not fit.
    fn boxes(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
            assert!(
                size >= 8 && at + size <= data.len(),
                "box at {at} of size {size}"
            );
            let kind: [u8; 4] = data[at + 4..at + 8].try_into().unwrap();
            out.push((kind, &data[at + 8..at + size]));
            at += size;
        }
        out
    }

    fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
        boxes(data)
            .into_iter()
            .find(|(k, _)| k == kind)
            .map(|(_, p)| p)
            .unwrap_or_else(|| panic!("no {} box", String::from_utf8_lossy(kind)))
    }

    fn be32(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn the_placeholder_is_an_mp4_whose_sample_table_points_at_its_frame() {
        let mp4 = placeholder_mp4(1280, 720, 4.0, "a cat");
        let top = boxes(&mp4);
        let kinds: Vec<&[u8]> = top.iter().map(|(k, _)| &k[..]).collect();
        assert_eq!(kinds, [&b"ftyp"[..], b"moov", b"mdat"]);
        assert_eq!(&top[0].1[..4], b"isom");

        let moov = child(&mp4, b"moov");
        let mvhd = child(moov, b"mvhd");
        assert_eq!(
            (be32(mvhd, 12), be32(mvhd, 16)),
            (1000, 4000),
            "timescale, 4 s"
        );
        let trak = child(moov, b"trak");
        let tkhd = child(trak, b"tkhd");
        let (w, h) = frame_size(1280, 720);
        assert_eq!((w, h), (64, 36));
        assert_eq!((be32(tkhd, 76) >> 16, be32(tkhd, 80) >> 16), (64, 36));
        let mdia = child(trak, b"mdia");
        assert_eq!(&child(mdia, b"hdlr")[8..12], b"vide");
        let stbl = child(child(mdia, b"minf"), b"stbl");
        let stsd = child(stbl, b"stsd");
        assert_eq!(be32(stsd, 4), 1);
        assert_eq!(&stsd[12..16], b"raw ");
        let entry = &stsd[16..];
        assert_eq!(
            (
                u16::from_be_bytes([entry[24], entry[25]]),
                u16::from_be_bytes([entry[26], entry[27]])
            ),
            (64, 36)
        );
        let stsz = child(stbl, b"stsz");
        let sample = be32(stsz, 12) as usize;
        assert_eq!(sample, 64 * 36 * 3);
        let offset = be32(child(stbl, b"stco"), 8) as usize;
        let mdat = top[2].1;
        let mdat_start = mp4.len() - mdat.len();
        assert_eq!(offset, mdat_start, "the chunk offset is the frame in mdat");
        assert_eq!(mdat.len(), sample);
        assert_eq!(&mdat[..3], &mdat[3..6], "one colour");

        assert_eq!(mp4, placeholder_mp4(1280, 720, 4.0, "a cat"));
        assert_ne!(mp4, placeholder_mp4(1280, 720, 4.0, "a dog"));
        assert_eq!(frame_size(720, 1280), (36, 64));
        assert_eq!(frame_size(1, 1), (4, 4));
    }
}
