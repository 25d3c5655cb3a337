//! A response body that streams a byte range of an open file in 64 KiB chunks, so that a
//! download never holds the whole file in memory.
//!
//! Why not `tokio_util::io::ReaderStream`: `tokio-util` is not a direct dependency of the
//! crate and the dependency set is fixed. Implementing [`HttpBody`] needs the name of
//! `http_body::Frame`, and `http_body` is not a direct dependency either, so the type is
//! named below through a public associated type of `http-body-util` ([`DataFrame`]). If
//! `tokio-util` (feature `io`) becomes a direct dependency, this file can be replaced by
//! `Body::from_stream(ReaderStream::new(file.take(len)))`.
//!
//! Pitfall: the body must yield exactly the `Content-Length` the handler announced. If the
//! file on disk is shorter than the manifest says, the body ends with an error, and hyper
//! aborts the connection rather than send a short response that looks complete.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Bytes, HttpBody};
use http_body_util::Full;
use tokio::io::{AsyncRead, ReadBuf};

/// Maps `Option<Result<F, E>>` to `F`, to name a frame type from a future's output.
pub(crate) trait FrameOf {
    type Frame;
}

impl<F, E> FrameOf for Option<Result<F, E>> {
    type Frame = F;
}

/// `http_body::Frame<Bytes>`: the output of http-body-util's `Frame` future on a
/// `Full<Bytes>` body is `Option<Result<http_body::Frame<Bytes>, Infallible>>`.
type DataFrame =
    <<http_body_util::combinators::Frame<'static, Full<Bytes>> as Future>::Output as FrameOf>::Frame;

const CHUNK: usize = 64 * 1024;

/// Streams `remaining` bytes of `file` from its current position.
pub(crate) struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
    buf: Box<[u8]>,
    /// For error messages.
    path: PathBuf,
}

impl FileBody {
    /// `file` must already be positioned at the first byte to send.
    pub(crate) fn new(file: tokio::fs::File, len: u64, path: PathBuf) -> FileBody {
        let size = usize::try_from(len).map_or(CHUNK, |len| len.min(CHUNK));
        FileBody {
            file,
            remaining: len,
            buf: vec![0; size].into_boxed_slice(),
            path,
        }
    }
}

impl HttpBody for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<DataFrame, io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want =
            usize::try_from(this.remaining).map_or(this.buf.len(), |r| r.min(this.buf.len()));
        let Some(slot) = this.buf.get_mut(..want) else {
            return Poll::Ready(None);
        };
        let mut read = ReadBuf::new(slot);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(io::Error::new(
                e.kind(),
                format!("reading {}: {e}", this.path.display()),
            )))),
            Poll::Ready(Ok(())) => {
                let filled = read.filled();
                if filled.is_empty() {
                    let missing = this.remaining;
                    this.remaining = 0;
                    tracing::error!(
                        path = %this.path.display(),
                        missing,
                        "file is shorter than its manifest entry says"
                    );
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "{} ended {missing} bytes before the length in the manifest",
                            this.path.display()
                        ),
                    ))));
                }
                this.remaining -= filled.len() as u64;
                Poll::Ready(Some(Ok(DataFrame::data(Bytes::copy_from_slice(filled)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }
}
