//! Whole-body buffering decisions (pure logic; the glue in `plugin.rs` does the host calls).

/// Default largest body handed to a plug-in: 32 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 32 << 20;

/// What to do with one body callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStep {
    /// Not inspecting: let the data through.
    Pass,
    /// Inspecting, the stream has not ended: hold the data (return Pause) so the host buffers it.
    Wait,
    /// The whole body (of this many bytes) is buffered: read it and hand it to the plug-in.
    Ready(usize),
    /// The body grew past the limit: log one warning, stop inspecting, let it through.
    TooLarge,
}

/// The body-buffering state of one direction of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyBuffer {
    Off,
    Buffering { limit: usize },
    Done,
}

impl BodyBuffer {
    /// A body callback with `size` bytes buffered so far.
    pub fn on_data(&mut self, size: usize, end_of_stream: bool) -> BodyStep {
        let BodyBuffer::Buffering { limit } = *self else {
            return BodyStep::Pass;
        };
        if size > limit {
            *self = BodyBuffer::Done;
            return BodyStep::TooLarge;
        }
        if !end_of_stream {
            return BodyStep::Wait;
        }
        *self = BodyBuffer::Done;
        BodyStep::Ready(size)
    }

    /// Trailers arrived: the body (if still buffering) is complete.
    pub fn on_trailers(&mut self, size: usize) -> BodyStep {
        self.on_data(size, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_until_end_of_stream() {
        let mut b = BodyBuffer::Buffering { limit: 10 };
        assert_eq!(b.on_data(3, false), BodyStep::Wait);
        assert_eq!(b.on_data(7, false), BodyStep::Wait);
        assert_eq!(b.on_data(10, true), BodyStep::Ready(10));
        assert_eq!(b, BodyBuffer::Done);
        assert_eq!(b.on_data(12, true), BodyStep::Pass);
    }

    #[test]
    fn over_the_limit_once_then_pass() {
        let mut b = BodyBuffer::Buffering { limit: 10 };
        assert_eq!(b.on_data(11, false), BodyStep::TooLarge);
        assert_eq!(b.on_data(20, true), BodyStep::Pass);
        let mut b = BodyBuffer::Buffering { limit: 10 };
        assert_eq!(b.on_data(11, true), BodyStep::TooLarge);
    }

    #[test]
    fn off_passes_and_trailers_complete() {
        let mut b = BodyBuffer::Off;
        assert_eq!(b.on_data(1, true), BodyStep::Pass);
        let mut b = BodyBuffer::Buffering { limit: 10 };
        assert_eq!(b.on_data(4, false), BodyStep::Wait);
        assert_eq!(b.on_trailers(4), BodyStep::Ready(4));
        assert_eq!(DEFAULT_BODY_LIMIT, 33_554_432);
    }
}
