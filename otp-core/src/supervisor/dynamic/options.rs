//! The options of a [`DynamicSupervisor`](super::DynamicSupervisor).

use std::time::Duration;

use crate::gen_server::{ServerName, StartOptions};
use crate::supervisor::check::{SpecError, check_flags};
use crate::supervisor::flags::{AutoShutdown, Strategy, SupFlags};

/// The options of a [`DynamicSupervisor`](super::DynamicSupervisor) (DS-01): its flags
/// (one-for-one only, intensity 3 restarts in 5 s by default), `max_children` (no limit by
/// default), the extra argument given to every child's start function (`()` by default), and
/// start options (a name).
#[derive(Clone, Debug)]
pub struct DynamicOptions<A = ()> {
    pub(super) flags: SupFlags,
    pub(super) max_children: Option<usize>,
    pub(super) extra: A,
    pub(super) start: StartOptions,
}

impl Default for DynamicOptions<()> {
    fn default() -> Self {
        DynamicOptions {
            flags: SupFlags::default(),
            max_children: None,
            extra: (),
            start: StartOptions::new(),
        }
    }
}

impl DynamicOptions<()> {
    /// The defaults: 3 restarts in 5 s, no `max_children`, no extra argument, no name.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<A> DynamicOptions<A> {
    /// Sets the flags. Only [`Strategy::OneForOne`] and [`AutoShutdown::Never`] are accepted;
    /// others fail the start with [`SpecError::DynamicStrategy`] or
    /// [`SpecError::DynamicAutoShutdown`].
    pub fn flags(mut self, flags: SupFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Sets the most restarts allowed within the period (default 3).
    pub fn intensity(mut self, restarts: u32) -> Self {
        self.flags.intensity = restarts;
        self
    }

    /// Sets the period restarts are counted in (default 5 s).
    pub fn period(mut self, period: Duration) -> Self {
        self.flags.period = period;
        self
    }

    /// Limits how many children may exist at once, those being restarted included (DS-02,
    /// DS-04): beyond, `start_child` fails with
    /// [`SupervisorError::MaxChildren`](crate::supervisor::SupervisorError::MaxChildren).
    pub fn max_children(mut self, max: usize) -> Self {
        self.max_children = Some(max);
        self
    }

    /// Sets the value given (cloned) to the start function of every child, on every start and
    /// restart (Elixir's `extra_arguments`, DS-03). Children are then started from
    /// [`ChildSpec<B>`](crate::supervisor::ChildSpec::with_arg).
    pub fn extra_arg<B>(self, extra: B) -> DynamicOptions<B> {
        DynamicOptions {
            flags: self.flags,
            max_children: self.max_children,
            extra,
            start: self.start,
        }
    }

    /// Registers the supervisor under a name.
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.start = self.start.name(name);
        self
    }

    /// Sets the start options (name, start timeout).
    pub fn start_options(mut self, options: StartOptions) -> Self {
        self.start = options;
        self
    }

    /// Refuses, before anything starts, what a dynamic supervisor does not support.
    pub(super) fn check(&self) -> Result<(), SpecError> {
        if self.flags.strategy != Strategy::OneForOne {
            return Err(SpecError::DynamicStrategy(self.flags.strategy));
        }
        if self.flags.auto_shutdown != AutoShutdown::Never {
            return Err(SpecError::DynamicAutoShutdown(self.flags.auto_shutdown));
        }
        if self.max_children == Some(0) {
            return Err(SpecError::ZeroMaxChildren);
        }
        check_flags(&self.flags)
    }
}
