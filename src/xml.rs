//! Escaping text for the XML documents Portale writes as text: the SVG pictures
//! ([`crate::pictures`]) and the sitemap ([`crate::server::discovery`]). The RDF outputs
//! go through oxrdfio, which escapes for itself.
//!
//! Pitfall: XML 1.0 forbids most control characters even when escaped, so they become
//! spaces (tab and newline are kept).

/// Escapes `s` for XML character data and attribute values (single or double quoted).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_control_characters() {
        assert_eq!(
            super::escape("a<b>&\"c\"'\u{7}\td"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos; \td"
        );
    }
}
