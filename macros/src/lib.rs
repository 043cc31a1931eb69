//! Procedural macros of `netns-test`. Use them through the `netns_test` crate:
//! `use netns_test::netns_test;`.
//!
//! The macro is thin, like `#[tokio::test]`: it checks the signature and the
//! attribute's arguments, keeps the function as an inner `fn` of a hidden
//! entry function that hands it to the library's runner
//! (`netns_test::__private::execute`), and emits a `#[test]` that calls the
//! entry and reports its outcome (`__private::report`). `#[should_panic]`
//! is not copied onto that `#[test]`: its `expected` text goes to the
//! library, which judges the outcome (so that a skipped test passes, and
//! the runner knows whether the test failed). It also registers the entry,
//! with the test's name, `#[ignore]` and `#[should_panic]`, in a link-time
//! list for netns-test's own harness (`harness = false` targets, which do
//! not compile `#[test]` functions).
//!
//! Everything at run time (building the network, the thread inside the
//! node, the runtime of an `async fn`, the timeout, the failure messages)
//! lives in the library, where it is tested without the macro.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Error, FnArg, Ident, ItemFn, LitStr, Pat, ReturnType, Token, Type};

/// (Defined in the `netns-test-macros` crate; use it as
/// `netns_test::netns_test`, whose documentation shows every form.)
#[proc_macro_attribute]
pub fn netns_test(args: TokenStream, item: TokenStream) -> TokenStream {
    match expand(args.into(), item.into()) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The parsed arguments of `#[netns_test(...)]`.
#[derive(Default)]
struct Args {
    topology: Option<syn::Path>,
    node: Option<LitStr>,
    timeout: Option<(u64, LitStr)>,
    /// `capture`: capture every interface, keep the file if the test fails.
    capture: Option<Ident>,
    /// `seed = 42`: the seed of the lab's wires.
    seed: Option<syn::LitInt>,
}

const KEYS: &str =
    "`topology = path`, `node = \"name\"`, `timeout = \"5s\"`, `seed = 42` and `capture`";

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut node_key: Option<Ident> = None;
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let dup = || Error::new(key.span(), format!("`{key}` is given twice"));
            match key.to_string().as_str() {
                "topology" => {
                    input.parse::<Token![=]>()?;
                    let path: syn::Path = input.parse().map_err(|e| {
                        Error::new(
                            e.span(),
                            "expected the path of a `fn() -> Topology`, as in `topology = two_hosts`",
                        )
                    })?;
                    if args.topology.replace(path).is_some() {
                        return Err(dup());
                    }
                }
                "node" => {
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse().map_err(|e| {
                        Error::new(
                            e.span(),
                            "expected a node name in quotes, as in `node = \"n2\"`",
                        )
                    })?;
                    if lit.value().is_empty() {
                        return Err(Error::new(lit.span(), "the node name is empty"));
                    }
                    if args.node.replace(lit).is_some() {
                        return Err(dup());
                    }
                    node_key = Some(key.clone());
                }
                "timeout" => {
                    input.parse::<Token![=]>()?;
                    let lit: LitStr = input.parse().map_err(|e| {
                        Error::new(
                            e.span(),
                            "expected a duration in quotes, as in `timeout = \"5s\"` \
                             (units: ms, s, m)",
                        )
                    })?;
                    let ms = parse_duration_ms(&lit.value())
                        .map_err(|why| Error::new(lit.span(), why))?;
                    if args.timeout.replace((ms, lit)).is_some() {
                        return Err(dup());
                    }
                }
                "seed" => {
                    input.parse::<Token![=]>()?;
                    let lit: syn::LitInt = input.parse().map_err(|e| {
                        Error::new(e.span(), "expected a whole number, as in `seed = 42`")
                    })?;
                    lit.base10_parse::<u64>().map_err(|_| {
                        Error::new(lit.span(), "expected a whole number, as in `seed = 42`")
                    })?;
                    if args.seed.replace(lit).is_some() {
                        return Err(dup());
                    }
                }
                "capture" => {
                    if input.peek(Token![=]) {
                        return Err(Error::new(
                            key.span(),
                            "`capture` takes no value: write `capture` alone \
                             (NETNS_TEST_CAPTURE=keep keeps the files of passing tests too)",
                        ));
                    }
                    if args.capture.replace(key.clone()).is_some() {
                        return Err(dup());
                    }
                }
                _ => {
                    return Err(Error::new(
                        key.span(),
                        format!("unknown argument `{key}`; #[netns_test] takes {KEYS}"),
                    ))
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let (Some(key), None) = (&node_key, &args.topology) {
            return Err(Error::new(
                key.span(),
                "`node` picks a node of `topology`; without a topology the test runs in \
                 its single node `local`",
            ));
        }
        Ok(args)
    }
}

/// `"500ms"`, `"5s"`, `"2m"` to milliseconds.
fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let bad = |why: &str| {
        format!("invalid timeout {text:?}: {why}; write a whole number and a unit: \"500ms\", \"5s\" or \"2m\"")
    };
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = text.split_at(digits);
    if num.is_empty() {
        return Err(bad("it does not start with a number"));
    }
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "" => return Err(bad("the unit is missing")),
        _ => return Err(bad(&format!("unknown unit `{unit}`"))),
    };
    let n: u64 = num.parse().map_err(|_| bad("the number is too large"))?;
    let ms = n
        .checked_mul(scale)
        .ok_or_else(|| bad("the number is too large"))?;
    if ms == 0 {
        return Err(bad("it must be longer than zero"));
    }
    Ok(ms)
}

/// `&Net` or `&Node`, by any path, with any lifetime; not `&mut`. The
/// `Inject` trait checks the real type when the test is compiled.
fn is_injectable(ty: &Type) -> bool {
    match ty {
        Type::Group(g) => is_injectable(&g.elem),
        Type::Paren(p) => is_injectable(&p.elem),
        Type::Reference(r) if r.mutability.is_none() => {
            match &*r.elem {
                Type::Path(p) if p.qself.is_none() => p.path.segments.last().is_some_and(|s| {
                    (s.ident == "Net" || s.ident == "Node") && s.arguments.is_none()
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

fn is_attr(attr: &Attribute, name: &str) -> bool {
    attr.path().is_ident(name)
}

fn expand(args: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let args: Args = syn::parse2(args)?;
    let func: ItemFn = syn::parse2(item)?;
    let sig = &func.sig;

    if !sig.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &sig.generics,
            "a #[netns_test] function cannot be generic: libtest calls it without arguments",
        ));
    }
    if let Some(wc) = &sig.generics.where_clause {
        return Err(Error::new_spanned(
            wc,
            "a #[netns_test] function cannot have a `where` clause",
        ));
    }
    if let Some(t) = &sig.constness {
        return Err(Error::new(
            t.span,
            "a #[netns_test] function cannot be `const`",
        ));
    }
    if let Some(t) = &sig.unsafety {
        return Err(Error::new(
            t.span,
            "a #[netns_test] function cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(Error::new_spanned(
            abi,
            "a #[netns_test] function cannot have an ABI",
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(Error::new_spanned(
            v,
            "a #[netns_test] function cannot be variadic",
        ));
    }
    if let Some(attr) = func.attrs.iter().find(|a| is_attr(a, "test")) {
        return Err(Error::new_spanned(
            attr,
            "remove this `#[test]`: #[netns_test] already makes the function a test",
        ));
    }
    let should_panic_attr = func.attrs.iter().find(|a| is_attr(a, "should_panic"));
    let should_panic = should_panic_attr.is_some();
    let expected = should_panic_attr
        .map(expected_message)
        .transpose()?
        .flatten();
    let ignore_attr = func.attrs.iter().find(|a| is_attr(a, "ignore"));
    let ignored = ignore_attr.is_some();
    let ignore_reason = ignore_attr.and_then(|a| match &a.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    });
    if should_panic {
        if let ReturnType::Type(_, ty) = &sig.output {
            if !matches!(&**ty, Type::Tuple(t) if t.elems.is_empty()) {
                return Err(Error::new_spanned(
                    ty,
                    "functions using `#[should_panic]` must return `()`",
                ));
            }
        }
    }

    // Each parameter becomes an injected argument: `<T as Inject>::inject(ctx, "name")`.
    let mut injected = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        let pt = match input {
            FnArg::Typed(pt) => pt,
            FnArg::Receiver(r) => {
                return Err(Error::new_spanned(
                    r,
                    "a #[netns_test] function cannot take `self`",
                ))
            }
        };
        let name = match &*pt.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                let s = pi.ident.to_string();
                s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
            }
            Pat::Wild(_) => "_".to_string(),
            other => {
                return Err(Error::new_spanned(
                    other,
                    "expected a plain parameter name: a `&Node` parameter is named after its \
                     node, as in `n1: &Node`",
                ))
            }
        };
        let ty = &pt.ty;
        if !is_injectable(ty) {
            return Err(Error::new_spanned(
                ty,
                format!(
                    "unsupported parameter type `{}`: a #[netns_test] function takes `&Net` \
                     (the live network) and `&Node` (the node named like the parameter)",
                    ty.to_token_stream()
                        .to_string()
                        .replace(" :: ", "::")
                        .replace("& ", "&")
                ),
            ));
        }
        let var = format_ident!("__netns_test_arg{}", i);
        let span = ty.span();
        injected.push((
            var.clone(),
            quote_spanned! {span=>
                let #var = <#ty as ::netns_test::__private::Inject<'_>>::inject(__netns_test_ctx, #name)?;
            },
        ));
    }
    let vars = injected.iter().map(|(v, _)| v);
    let lets = injected.iter().map(|(_, l)| l);

    let ident = &sig.ident;
    let call = if sig.asyncness.is_some() {
        quote! { ::netns_test::__private::block_on(#ident(#(#vars),*))? }
    } else {
        quote! { #ident(#(#vars),*) }
    };
    let ret_span = match &sig.output {
        ReturnType::Default => sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let ret = quote_spanned! {ret_span=> __netns_test_ret };
    let outcome = quote! {
        let #ret = #call;
        ::netns_test::harness::TestReturn::into_outcome(#ret)
    };

    let mut spec = quote! {
        ::netns_test::__private::TestSpec::new(::core::concat!(
            ::core::module_path!(), "::", ::core::stringify!(#ident)
        ))
    };
    if let Some(path) = &args.topology {
        let text = path.to_token_stream().to_string().replace(' ', "");
        let span = path.span();
        spec.extend(quote_spanned! {span=>
            .topology(#text, #path)
        });
    }
    if let Some(node) = &args.node {
        spec.extend(quote! { .node(#node) });
    }
    if let Some((ms, lit)) = &args.timeout {
        spec.extend(quote! {
            .timeout(::core::time::Duration::from_millis(#ms), #lit)
        });
    }
    if args.capture.is_some() {
        spec.extend(quote! { .capture() });
    }
    if let Some(seed) = &args.seed {
        let seed: u64 = seed.base10_parse().expect("checked while parsing");
        spec.extend(quote! { .seed(#seed) });
    }
    match &expected {
        Some(text) => spec.extend(quote! { .should_panic_with(#text) }),
        None if should_panic => spec.extend(quote! { .should_panic() }),
        None => {}
    }

    // Lint levels apply to the body, which is in `entry`; `#[expect]` only
    // there, since the `#[test]` function itself is one call.
    // `#[should_panic]` stays off the `#[test]`: `report` judges the outcome
    // with the spec's expectation, and returns when the test passed.
    let is_lint = |a: &Attribute| {
        ["allow", "warn", "deny", "forbid", "expect"]
            .iter()
            .any(|l| is_attr(a, l))
    };
    let attrs: Vec<_> = func
        .attrs
        .iter()
        .filter(|a| !is_attr(a, "expect") && !is_attr(a, "should_panic"))
        .collect();
    let entry_attrs: Vec<_> = func
        .attrs
        .iter()
        .filter(|a| is_attr(a, "cfg") || is_lint(a))
        .collect();
    let vis = &func.vis;
    let mut inner = func.clone();
    inner.attrs.clear();
    inner.vis = syn::Visibility::Inherited;
    let test_attr = quote_spanned! {Span::call_site()=> #[::core::prelude::v1::test] };
    // The test lives in `entry`, which both the `#[test]` (standard harness)
    // and the registration for the custom harness call: a `harness = false`
    // target does not compile `#[test]` functions.
    let entry = format_ident!("__netns_test_{}", ident);
    let cfgs: Vec<_> = func.attrs.iter().filter(|a| is_attr(a, "cfg")).collect();
    let opt = |v: Option<&LitStr>| match v {
        Some(v) => quote! { ::core::option::Option::Some(#v) },
        None => quote! { ::core::option::Option::None },
    };
    let ignore_reason = opt(ignore_reason.as_ref());
    let expected = opt(expected.as_ref());

    Ok(quote! {
        #(#attrs)*
        #test_attr
        #vis fn #ident() {
            ::netns_test::__private::report(#should_panic, #expected, #entry())
        }

        #(#entry_attrs)*
        #[doc(hidden)]
        fn #entry() -> ::netns_test::__private::Outcome {
            #inner
            ::netns_test::__private::execute(
                #spec,
                |__netns_test_ctx: &::netns_test::__private::Ctx|
                    -> ::core::result::Result<(), ::netns_test::__private::Failure>
                {
                    #(#lets)*
                    #outcome
                },
            )
        }

        #(#cfgs)*
        const _: () = {
            #[::netns_test::__private::linkme::distributed_slice(::netns_test::__private::TESTS)]
            #[linkme(crate = ::netns_test::__private::linkme)]
            static __NETNS_TEST_REGISTRATION: ::netns_test::__private::Registration =
                ::netns_test::__private::Registration {
                    name: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                    ignored: #ignored,
                    ignore_reason: #ignore_reason,
                    should_panic: #should_panic,
                    expected: #expected,
                    run: #entry,
                };
        };
    })
}

/// The `expected` text of `#[should_panic]`, in any of libtest's forms:
/// `#[should_panic]`, `#[should_panic = "text"]`,
/// `#[should_panic(expected = "text")]`.
fn expected_message(attr: &Attribute) -> syn::Result<Option<LitStr>> {
    let malformed = || {
        Error::new_spanned(
            attr,
            "expected `#[should_panic]` or `#[should_panic(expected = \"text\")]`",
        )
    };
    match &attr.meta {
        syn::Meta::Path(_) => Ok(None),
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Ok(Some(s.clone())),
            _ => Err(malformed()),
        },
        syn::Meta::List(list) => list
            .parse_args_with(|input: ParseStream<'_>| {
                let key: Ident = input.parse()?;
                if key != "expected" {
                    return Err(Error::new(key.span(), "expected `expected`"));
                }
                input.parse::<Token![=]>()?;
                let lit: LitStr = input.parse()?;
                let _ = input.parse::<Option<Token![,]>>()?;
                Ok(Some(lit))
            })
            .map_err(|_| malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_duration_ms, Args};

    #[test]
    fn seed_is_a_whole_number() {
        let args: Args = syn::parse_str("topology = f, seed = 42").unwrap();
        assert_eq!(args.seed.unwrap().base10_parse::<u64>().unwrap(), 42);
        let err = |text: &str| syn::parse_str::<Args>(text).err().unwrap().to_string();
        assert!(err("seed = \"42\"").contains("expected a whole number"));
        assert!(err("seed = -1").contains("expected a whole number"));
        assert!(err("seed = 1, seed = 2").contains("given twice"));
    }

    #[test]
    fn capture_is_a_bare_key() {
        let args: Args = syn::parse_str("topology = f, capture").unwrap();
        assert!(args.capture.is_some() && args.topology.is_some());
        let bare: Args = syn::parse_str("capture").unwrap();
        assert!(bare.capture.is_some());
        let err = |text: &str| syn::parse_str::<Args>(text).err().unwrap().to_string();
        assert!(err("capture = true").contains("`capture` takes no value"));
        assert!(err("capture, capture").contains("given twice"));
        assert!(err("captur").contains("and `capture`"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("5s"), Ok(5_000));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        for bad in [
            "",
            "5",
            "s",
            "5 s",
            "1.5s",
            "5h",
            "0s",
            "-1s",
            "99999999999999999999ms",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad:?} accepted");
        }
    }
}
