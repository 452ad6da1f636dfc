//! Procedural macros for [bocata](https://docs.rs/bocata).
//!
//! Use them through the re-exports in `bocata` (`#[bocata::view]`); this crate is an
//! implementation detail.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::{Ident, ImplItem, ItemImpl, parse_macro_input, spanned::Spanned};

/// The view methods bocata dispatches to, with the `Methods` constant each one enables.
const VIEW_METHODS: [(&str, &str); 6] = [
    ("on_get", "GET"),
    ("on_post", "POST"),
    ("on_put", "PUT"),
    ("on_patch", "PATCH"),
    ("on_delete", "DELETE"),
    ("on_websocket", "WEBSOCKET"),
];

/// The names in [`VIEW_METHODS`], for error messages.
fn view_method_names() -> String {
    let names: Vec<&str> = VIEW_METHODS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

/// Other `View` methods a view may define in the same block.
const VIEW_ITEMS: [&str; 3] = ["body_limit", "name", "websocket_protocols"];

/// Turns an `impl` block of `on_get`, `on_post`, … methods into a `bocata::View`.
///
/// See `bocata::view` for the documentation.
///
/// A mistake is reported as a compile error, and the rest is still expanded: the view
/// implements `View` with the methods that are right, and a method in error stays an
/// ordinary method of the struct. So the error is the only message shown, and using the
/// struct as a view does not add a second one.
#[proc_macro_attribute]
pub fn view(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    if !args.is_empty() {
        let args = proc_macro2::TokenStream::from(args);
        errors.push(syn::Error::new(
            args.span(),
            "#[bocata::view] takes no arguments",
        ));
    }
    let item = parse_macro_input!(input as ItemImpl);
    let expanded = expand(item, &mut errors);
    let errors = errors.iter().map(syn::Error::to_compile_error);
    quote!(#(#errors)* #expanded).into()
}

/// The `View` implementation of `item`, and an inherent `impl` block for its other
/// items. Each mistake found is pushed onto `errors`.
fn expand(item: ItemImpl, errors: &mut Vec<syn::Error>) -> proc_macro2::TokenStream {
    if let Some((_, path, _)) = &item.trait_ {
        let is_view = path.segments.last().is_some_and(|s| s.ident == "View");
        if !is_view {
            errors.push(syn::Error::new(
                path.span(),
                "#[bocata::view] goes on `impl MyView { … }` or `impl View for MyView { … }`",
            ));
            return quote!(#item);
        }
    }

    let mut view_items = Vec::new();
    let mut other_items = Vec::new();
    let mut methods = Vec::new();
    let mut mistakes = 0;
    for impl_item in item.items {
        let ImplItem::Fn(func) = &impl_item else {
            other_items.push(impl_item);
            continue;
        };
        match classify(func) {
            Ok(Place::Method(method)) => {
                methods.push(Ident::new(method, Span::call_site()));
                view_items.push(impl_item);
            }
            Ok(Place::Trait) => view_items.push(impl_item),
            Ok(Place::Inherent) => other_items.push(impl_item),
            // Kept as an ordinary method, so that calls to it still resolve.
            Err(e) => {
                mistakes += 1;
                errors.push(e);
                other_items.push(impl_item);
            }
        }
    }
    if methods.is_empty() && mistakes == 0 {
        errors.push(syn::Error::new(
            item.self_ty.span(),
            format!("a view needs at least one of {}", view_method_names()),
        ));
    }

    let attrs = &item.attrs;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let inherent = if other_items.is_empty() {
        quote!()
    } else {
        quote! {
            #(#attrs)*
            impl #impl_generics #self_ty #where_clause {
                #(#other_items)*
            }
        }
    };
    quote! {
        #inherent
        #(#attrs)*
        impl #impl_generics ::bocata::View for #self_ty #where_clause {
            fn methods(&self) -> ::bocata::Methods {
                ::bocata::Methods::EMPTY #(.with(::bocata::Methods::#methods))*
            }
            #(#view_items)*
        }
    }
}

/// Where a function of the block goes.
enum Place {
    /// An `on_*` method of the `View` impl, with the `Methods` constant it enables.
    Method(&'static str),
    /// Another item of the `View` impl.
    Trait,
    /// An ordinary method of the struct, in the inherent impl.
    Inherent,
}

/// Where `func` goes, or why it is a mistake.
fn classify(func: &syn::ImplItemFn) -> syn::Result<Place> {
    let name = func.sig.ident.to_string();
    if let Some((_, method)) = VIEW_METHODS.iter().find(|(n, _)| *n == name) {
        if func.sig.asyncness.is_none() {
            return Err(syn::Error::new(
                func.sig.fn_token.span(),
                format!("`{name}` must be an `async fn`"),
            ));
        }
        Ok(Place::Method(method))
    } else if VIEW_ITEMS.contains(&name.as_str()) {
        Ok(Place::Trait)
    } else if name == "on_head" || name == "on_options" {
        Err(syn::Error::new(
            func.sig.ident.span(),
            format!(
                "`{name}` is answered by bocata itself: HEAD runs `on_get` without sending \
                 the body, OPTIONS lists the allowed methods"
            ),
        ))
    } else if name.starts_with("on_") {
        Err(syn::Error::new(
            func.sig.ident.span(),
            format!(
                "unknown view method `{name}`; expected one of {}",
                view_method_names()
            ),
        ))
    } else {
        Ok(Place::Inherent)
    }
}
