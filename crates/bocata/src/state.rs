//! App state: values shared by every request, looked up by type.

use std::any::{Any, TypeId, type_name};
use std::sync::Arc;

/// The values added with [`App::state`](crate::App::state), one per type.
#[derive(Clone, Default)]
pub(crate) struct StateMap {
    values: Vec<(TypeId, &'static str, Arc<dyn Any + Send + Sync>)>,
}

impl StateMap {
    /// Adds `value`, replacing an earlier value of the same type.
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        self.values.retain(|(t, _, _)| *t != id);
        self.values.push((id, type_name::<T>(), Arc::new(value)));
    }

    /// The value of type `T`, if one was added. A linear scan: apps hold a handful.
    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.values
            .iter()
            .find(|(t, _, _)| *t == id)
            .and_then(|(_, _, value)| value.downcast_ref())
    }
}

impl std::fmt::Debug for StateMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.values.iter().map(|(_, name, _)| name))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type() {
        let mut state = StateMap::default();
        state.insert(1_u32);
        state.insert(String::from("a"));
        state.insert(2_u32);
        assert_eq!(state.get::<u32>(), Some(&2));
        assert_eq!(state.get::<String>().map(String::as_str), Some("a"));
        assert_eq!(state.get::<u64>(), None);
        assert_eq!(format!("{state:?}"), r#"["alloc::string::String", "u32"]"#);
    }
}
