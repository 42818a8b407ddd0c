//! The shapes a value of v5's document may come in where v5 is known to vary, or its published
//! examples disagree, each read into one Rust type for the mapping. Each type reads through the access
//! it is given, so that an error deep inside still names its path.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A number as sent (an integer stays an integer, `406752.0` stays a float), or a string holding one.
pub(super) struct Num(Number);

impl Num {
    pub(super) fn value(&self) -> Value {
        Value::Number(self.0.clone())
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a string holding one")
            }
            fn visit_u64<E>(self, n: u64) -> Result<Num, E> {
                Ok(Num(n.into()))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Num, E> {
                Ok(Num(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Num, E> {
                Number::from_f64(n)
                    .map(Num)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Float(n), &self))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Num, E> {
                let number = match s.parse::<i64>() {
                    Ok(n) => Some(n.into()),
                    Err(_) => s.parse::<f64>().ok().and_then(Number::from_f64),
                };
                number
                    .map(Num)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of strings, or one string alone (`""` for none).
pub(super) struct Strings(pub(super) Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings, or one string")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Strings, S::Error> {
                let mut items = Vec::new();
                while let Some(s) = seq.next_element()? {
                    items.push(s);
                }
                Ok(Strings(items))
            }
            fn visit_str<E>(self, s: &str) -> Result<Strings, E> {
                Ok(Strings(match s {
                    "" => vec![],
                    s => vec![s.to_string()],
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// A map, in the document's order; an empty one may come as `[]`.
pub(super) struct Keyed<T>(pub(super) Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Keyed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Keyed<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map, or [] for an empty one")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Keyed<T>, M::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Keyed(entries))
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Keyed<T>, S::Error> {
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(Keyed(Vec::new())),
                    Some(_) => Err(de::Error::invalid_length(1, &self)),
                }
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An entry that names its own code when it comes in a list.
pub(super) trait Coded {
    const KEY: &'static str;
    fn code(&self) -> Option<&str>;
}

/// Entries by code, in the document's order: a list of entries that carry their code, or a map keyed
/// by code (published examples show both for `currencies`).
pub(super) struct ByCode<T>(pub(super) Vec<(String, T)>);

impl<'de, T: Deserialize<'de> + Coded> Deserialize<'de> for ByCode<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Coded> Visitor<'de> for V<T> {
            type Value = ByCode<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a list of entries with `{}`, or a map keyed by it",
                    T::KEY
                )
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<ByCode<T>, S::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = seq.next_element::<T>()? {
                    let Some(code) = entry.code().map(str::to_string) else {
                        let i = entries.len();
                        return Err(de::Error::custom(format!("entry {i} has no `{}`", T::KEY)));
                    };
                    entries.push((code, entry));
                }
                Ok(ByCode(entries))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<ByCode<T>, M::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(ByCode(entries))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A list, a map (its keys are not read), or one item alone.
pub(super) struct Listed<T>(pub(super) Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Listed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Listed<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list, a map, or one item")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Listed<T>, S::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Listed(items))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Listed<T>, M::Error> {
                let mut items = Vec::new();
                while let Some((IgnoredAny, item)) = map.next_entry()? {
                    items.push(item);
                }
                Ok(Listed(items))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Listed<T>, E> {
                Ok(Listed(vec![T::deserialize(s.into_deserializer())?]))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// An object, or the shorter form v5 has been seen to send in its place: a name alone, a bare number,
/// a `[lat, lng]` pair.
pub(super) enum Or<T, A> {
    Full(T),
    Short(A),
}

impl<'de, T: Deserialize<'de>, A: Deserialize<'de>> Deserialize<'de> for Or<T, A> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, A>(PhantomData<(T, A)>);
        impl<'de, T: Deserialize<'de>, A: Deserialize<'de>> Visitor<'de> for V<T, A> {
            type Value = Or<T, A>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object, or its short form")
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Or::Full)
            }
            fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
                A::deserialize(SeqAccessDeserializer::new(seq)).map(Or::Short)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                A::deserialize(s.into_deserializer()).map(Or::Short)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                A::deserialize(n.into_deserializer()).map(Or::Short)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                A::deserialize(n.into_deserializer()).map(Or::Short)
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                A::deserialize(n.into_deserializer()).map(Or::Short)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}
