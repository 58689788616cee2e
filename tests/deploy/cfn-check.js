#!/usr/bin/env node
// cfn-check.js: check CloudFormation templates (YAML, short-form tags)
// against the CloudFormation resource specification of npm's
// @aws-cdk/cfnspec.
//
// Usage: cfn-check.js [--modules DIR] TEMPLATE...
//   DIR holds node_modules with @aws-cdk/cfnspec and yaml (the versions in
//   tests/deploy/package-lock.json; default: this script's directory).
//
// For each template: the top-level sections; every parameter's type; every
// resource's type exists in the specification, every property is one its
// type has, required properties are present, and property values of a
// property type (ItemType / Type) are checked the same way, all the way
// down; every Ref, Fn::GetAtt and ${} of Fn::Sub names a parameter, a
// resource, a pseudo parameter or an attribute the resource's type has;
// every condition named exists; Fn::FindInMap names a mapping that exists;
// outputs have a value.  Errors are "FILE:LINE: PATH: message"; exit 1 on
// any error, 2 on a usage error.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const TOP_LEVEL = ['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters',
	'Mappings', 'Conditions', 'Transform', 'Rules', 'Resources', 'Outputs'];
const PARAMETER_KEYS = ['Type', 'Default', 'AllowedValues', 'AllowedPattern',
	'ConstraintDescription', 'Description', 'MaxLength', 'MaxValue', 'MinLength',
	'MinValue', 'NoEcho'];
const RESOURCE_KEYS = ['Type', 'Properties', 'DependsOn', 'Condition', 'Metadata',
	'DeletionPolicy', 'UpdateReplacePolicy', 'UpdatePolicy', 'CreationPolicy'];
const OUTPUT_KEYS = ['Description', 'Value', 'Export', 'Condition'];
const PSEUDO = ['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition',
	'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix'];
// Short-form tags and the long form each stands for.
const SHORT_TAGS = {
	'!Ref': 'Ref', '!Condition': 'Condition', '!Base64': 'Fn::Base64', '!Cidr': 'Fn::Cidr',
	'!FindInMap': 'Fn::FindInMap', '!GetAtt': 'Fn::GetAtt', '!GetAZs': 'Fn::GetAZs',
	'!ImportValue': 'Fn::ImportValue', '!Join': 'Fn::Join', '!Select': 'Fn::Select',
	'!Split': 'Fn::Split', '!Sub': 'Fn::Sub', '!Transform': 'Fn::Transform',
	'!And': 'Fn::And', '!Equals': 'Fn::Equals', '!If': 'Fn::If', '!Not': 'Fn::Not',
	'!Or': 'Fn::Or',
};
const FUNCTIONS = new Set(Object.values(SHORT_TAGS).filter((f) => f.startsWith('Fn::')));
const CONDITION_FUNCTIONS = ['Fn::And', 'Fn::Equals', 'Fn::Not', 'Fn::Or', 'Condition'];
const PARAMETER_TYPE = new RegExp('^(String|Number|List<Number>|CommaDelimitedList|' +
	'AWS::EC2::[A-Za-z]+::[A-Za-z]+|AWS::Route53::HostedZone::Id|' +
	'List<AWS::EC2::[A-Za-z]+::[A-Za-z]+>|List<AWS::Route53::HostedZone::Id>|' +
	'AWS::SSM::Parameter::Name|AWS::SSM::Parameter::Value<[^>]+>>?)$');

function usage() {
	process.stderr.write('usage: cfn-check.js [--modules DIR] TEMPLATE...\n');
	process.exit(2);
}

// --- loading: YAML with short-form tags, and each path's line -------------

function keyOf(p) { return p.join('\0'); }

// The YAML node as CloudFormation's JSON form; lines[path] = its line.
function toJS(node, p, t) {
	if (node === null || node === undefined)
		return null;
	if (t.yaml.isAlias(node)) {
		t.error(p, 'YAML aliases are not allowed in CloudFormation templates', node);
		return null;
	}
	if (node.range)
		t.lines.set(keyOf(p), t.lineCounter.linePos(node.range[0]).line);
	let v;
	if (t.yaml.isMap(node)) {
		v = {};
		for (const pair of node.items) {
			const k = pair.key && t.yaml.isScalar(pair.key) ? String(pair.key.value) : null;
			if (k === null) {
				t.error(p, 'a key that is not a plain scalar', pair.key);
				continue;
			}
			if (pair.key.range)
				t.lines.set(keyOf(p.concat(k)), t.lineCounter.linePos(pair.key.range[0]).line);
			v[k] = toJS(pair.value, p.concat(k), t);
		}
	} else if (t.yaml.isSeq(node)) {
		v = node.items.map((item, i) => toJS(item, p.concat(String(i)), t));
	} else {
		v = node.value;
	}
	const tag = node.tag;
	if (!tag || tag.startsWith('tag:yaml.org,2002:'))
		return v;
	const fn = SHORT_TAGS[tag];
	if (!fn) {
		t.error(p, `unknown tag ${tag}`, node);
		return v;
	}
	if (fn === 'Fn::GetAtt' && typeof v === 'string') {
		const dot = v.indexOf('.');
		v = dot < 0 ? [v] : [v.slice(0, dot), v.slice(dot + 1)];
	}
	return { [fn]: v };
}

function loadTemplate(file, yaml, report) {
	const lineCounter = new yaml.LineCounter();
	const t = { yaml, lineCounter, lines: new Map(), error: null };
	const text = fs.readFileSync(file, 'utf8');
	const doc = yaml.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
	t.error = (p, msg, node) => {
		const line = node && node.range ? lineCounter.linePos(node.range[0]).line : null;
		report(p, msg, line);
	};
	for (const e of doc.errors)
		report([], `YAML: ${e.message.split('\n')[0]}`, e.linePos ? e.linePos[0].line : null);
	if (doc.errors.length)
		return { tree: null, lines: t.lines };
	return { tree: toJS(doc.contents, [], t), lines: t.lines };
}

// --- the checker ------------------------------------------------------------

class Checker {
	constructor(spec, file, yaml) {
		this.spec = spec;
		this.file = file;
		this.errors = [];
		this.warnings = [];
		const loaded = loadTemplate(file, yaml, (p, msg, line) => this.add(this.errors, p, msg, line));
		this.tmpl = loaded.tree;
		this.lines = loaded.lines;
		this.used = new Set();	// parameters referenced
		// What was checked, for the summary line.
		this.n = { props: 0, refs: 0, getatts: 0, subvars: 0, conds: 0 };
	}

	add(list, p, msg, line) {
		let l = line;
		for (let i = p.length; l == null && i >= 0; i--)
			l = this.lines.get(keyOf(p.slice(0, i)));
		list.push(`${this.file}:${l == null ? '?' : l}: ${p.length ? p.join('.') + ': ' : ''}${msg}`);
	}
	error(p, msg) { this.add(this.errors, p, msg); }
	warn(p, msg) { this.add(this.warnings, p, msg); }

	section(name) {
		const s = this.tmpl[name];
		return s && typeof s === 'object' && !Array.isArray(s) ? s : {};
	}

	run() {
		const t = this.tmpl;
		if (!t || typeof t !== 'object' || Array.isArray(t)) {
			if (!this.errors.length)
				this.error([], 'not a template: the document is not a mapping');
			return;
		}
		for (const k of Object.keys(t))
			if (!TOP_LEVEL.includes(k))
				this.error([k], `unknown top-level section (known: ${TOP_LEVEL.join(', ')})`);
		if (!Object.keys(this.section('Resources')).length)
			this.error(['Resources'], 'a template needs at least one resource');
		this.params = this.section('Parameters');
		this.resources = this.section('Resources');
		this.conditions = this.section('Conditions');
		this.mappings = this.section('Mappings');
		this.checkParameters();
		this.checkConditions();
		this.checkResources();
		this.checkOutputs();
		for (const name of Object.keys(this.params))
			if (!this.used.has(name))
				this.warn(['Parameters', name], 'parameter is never used');
	}

	checkParameters() {
		for (const [name, p] of Object.entries(this.params)) {
			const at = ['Parameters', name];
			if (!p || typeof p !== 'object') {
				this.error(at, 'a parameter is a mapping with a Type');
				continue;
			}
			for (const k of Object.keys(p))
				if (!PARAMETER_KEYS.includes(k))
					this.error(at.concat(k), `unknown parameter attribute (known: ${PARAMETER_KEYS.join(', ')})`);
			if (p.Type === undefined)
				this.error(at, 'parameter has no Type');
			else if (!PARAMETER_TYPE.test(String(p.Type)))
				this.error(at.concat('Type'), `unknown parameter type ${p.Type}`);
			if (Array.isArray(p.AllowedValues) && p.Default !== undefined &&
			    !p.AllowedValues.map(String).includes(String(p.Default)))
				this.error(at.concat('Default'), `default ${p.Default} is not one of AllowedValues`);
			if (this.resources[name] !== undefined)
				this.error(at, 'a parameter and a resource have the same name');
		}
	}

	checkConditions() {
		for (const [name, c] of Object.entries(this.conditions)) {
			const at = ['Conditions', name];
			if (!this.isFunction(c) || !CONDITION_FUNCTIONS.includes(Object.keys(c)[0]))
				this.error(at, `a condition is one of ${CONDITION_FUNCTIONS.join(', ')}`);
			this.walk(c, at, { inCondition: true });
		}
	}

	// A resource or an output: a mapping of known keys; its Condition
	// exists.  False when it is no mapping.
	checkEntry(v, at, kind, main, keys) {
		if (!v || typeof v !== 'object' || Array.isArray(v)) {
			this.error(at, `${kind === 'output' ? 'an' : 'a'} ${kind} is a mapping with a ${main}`);
			return false;
		}
		for (const k of Object.keys(v))
			if (!keys.includes(k))
				this.error(at.concat(k), `unknown ${kind} attribute (known: ${keys.join(', ')})`);
		if (v.Condition !== undefined)
			this.needCondition(v.Condition, at.concat('Condition'));
		return true;
	}

	checkResources() {
		for (const [name, r] of Object.entries(this.resources)) {
			const at = ['Resources', name];
			if (!this.checkEntry(r, at, 'resource', 'Type', RESOURCE_KEYS))
				continue;
			this.checkDependsOn(r.DependsOn, at.concat('DependsOn'));
			if (typeof r.Type !== 'string') {
				this.error(at, 'resource has no Type');
				continue;
			}
			const custom = r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource';
			const rs = this.spec.ResourceTypes[r.Type];
			if (!rs && !custom) {
				this.error(at.concat('Type'), `unknown resource type ${r.Type} (not in the CloudFormation resource specification)`);
				continue;
			}
			const props = r.Properties === undefined ? {} : r.Properties;
			this.walk(props, at.concat('Properties'), {});
			if (rs)
				this.checkObject(rs, `resource type ${r.Type}`, r.Type, props, at.concat('Properties'));
		}
	}

	checkDependsOn(d, at) {
		if (d === undefined)
			return;
		for (const [i, n] of (Array.isArray(d) ? d : [d]).entries()) {
			const p = Array.isArray(d) ? at.concat(String(i)) : at;
			if (typeof n !== 'string' || this.resources[n] === undefined)
				this.error(p, `DependsOn names ${JSON.stringify(n)}, which is not a resource`);
		}
	}

	checkOutputs() {
		for (const [name, o] of Object.entries(this.section('Outputs'))) {
			const at = ['Outputs', name];
			if (!this.checkEntry(o, at, 'output', 'Value', OUTPUT_KEYS))
				continue;
			if (o.Value === undefined || o.Value === null)
				this.error(at, 'output has no Value');
			if (o.Export !== undefined &&
			    (!o.Export || typeof o.Export !== 'object' || o.Export.Name === undefined))
				this.error(at.concat('Export'), 'Export is a mapping with a Name');
			this.walk(o, at, {});
		}
	}

	// --- property values against the specification ----------------------

	propertyType(resType, name) {
		return this.spec.PropertyTypes[`${resType}.${name}`] || this.spec.PropertyTypes[name];
	}

	// An object of a resource type or a property type (specOf.Properties).
	checkObject(specOf, what, resType, value, at) {
		if (this.isFunction(value))
			return this.eachBranch(value, at, (v, p) => this.checkObject(specOf, what, resType, v, p));
		const known = specOf.Properties || {};
		if (!value || typeof value !== 'object' || Array.isArray(value)) {
			this.error(at, `${what} is a mapping of properties, not ${JSON.stringify(value)}`);
			return;
		}
		for (const [k, v] of Object.entries(value)) {
			const ps = known[k];
			if (!ps) {
				this.error(at.concat(k), `unknown property ${k} of ${what} (it has: ${Object.keys(known).sort().join(', ') || 'none'})`);
				continue;
			}
			this.n.props++;
			this.checkValue(ps, resType, v, at.concat(k));
		}
		for (const [k, ps] of Object.entries(known))
			if (ps.Required && value[k] === undefined)
				this.error(at, `missing required property ${k} of ${what}`);
	}

	checkValue(ps, resType, v, at) {
		if (this.isFunction(v))
			return this.eachBranch(v, at, (b, p) => this.checkValue(ps, resType, b, p));
		if (ps.PrimitiveType)
			return this.checkPrimitive(ps.PrimitiveType, v, at);
		if (ps.Type === 'List' || ps.Type === 'Map') {
			const isList = ps.Type === 'List';
			if (isList ? !Array.isArray(v) : (!v || typeof v !== 'object' || Array.isArray(v))) {
				this.error(at, `expected a ${isList ? 'list' : 'mapping'}, not ${JSON.stringify(v)}`);
				return;
			}
			for (const [k, item] of Object.entries(v)) {
				const p = at.concat(k);
				if (this.isFunction(item))
					this.eachBranch(item, p, (b, bp) => this.checkItem(ps, resType, b, bp));
				else
					this.checkItem(ps, resType, item, p);
			}
			return;
		}
		if (ps.Type)
			this.checkNamedType(ps.Type, resType, v, at);
	}

	checkItem(ps, resType, item, at) {
		if (ps.PrimitiveItemType)
			this.checkPrimitive(ps.PrimitiveItemType, item, at);
		else if (ps.ItemType)
			this.checkNamedType(ps.ItemType, resType, item, at);
	}

	checkNamedType(name, resType, v, at) {
		const pt = this.propertyType(resType, name);
		if (!pt) {
			this.error(at, `the specification has no property type ${resType}.${name}`);
			return;
		}
		if (pt.PrimitiveType)
			return this.checkPrimitive(pt.PrimitiveType, v, at);
		this.checkObject(pt, `property type ${name}`, resType, v, at);
	}

	checkPrimitive(type, v, at) {
		const scalar = ['string', 'number', 'boolean'].includes(typeof v);
		const ok = {
			String: scalar, Timestamp: scalar,
			Integer: Number.isInteger(Number(v)) && scalar && v !== '' && typeof v !== 'boolean',
			Long: Number.isInteger(Number(v)) && scalar && v !== '' && typeof v !== 'boolean',
			Double: !Number.isNaN(Number(v)) && scalar && v !== '' && typeof v !== 'boolean',
			Boolean: typeof v === 'boolean' || v === 'true' || v === 'false',
			Json: v !== null && (typeof v === 'object' || typeof v === 'string'),
		}[type];
		if (ok === undefined)
			this.error(at, `the specification names an unknown primitive type ${type}`);
		else if (!ok)
			this.error(at, `expected ${type}, not ${JSON.stringify(v)}`);
	}

	// Fn::If: each branch that is not AWS::NoValue; any other function's
	// result is not known here.
	eachBranch(v, at, fn) {
		const args = v['Fn::If'];
		if (!Array.isArray(args) || args.length !== 3)
			return;
		for (const i of [1, 2]) {
			const b = args[i];
			if (b && b.Ref === 'AWS::NoValue')
				continue;
			if (this.isFunction(b))
				this.eachBranch(b, at.concat('Fn::If', String(i)), fn);
			else
				fn(b, at.concat('Fn::If', String(i)));
		}
	}

	// --- intrinsic functions ----------------------------------------------

	isFunction(v) {
		if (!v || typeof v !== 'object' || Array.isArray(v))
			return false;
		const keys = Object.keys(v);
		return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::') ||
			(keys[0] === 'Condition' && typeof v.Condition === 'string'));
	}

	needCondition(name, at) {
		this.n.conds++;
		if (typeof name !== 'string' || this.conditions[name] === undefined)
			this.error(at, `condition ${JSON.stringify(name)} does not exist (Conditions: ${Object.keys(this.conditions).join(', ') || 'none'})`);
	}

	needRef(name, at, ctx) {
		this.n.refs++;
		if (typeof name !== 'string') {
			this.error(at, `Ref takes a name, not ${JSON.stringify(name)}`);
			return;
		}
		if (this.params[name] !== undefined) {
			this.used.add(name);
			return;
		}
		if (PSEUDO.includes(name))
			return;
		if (this.resources[name] !== undefined) {
			if (ctx.inCondition)
				this.error(at, `a condition cannot refer to resource ${name}`);
			return;
		}
		this.error(at, `Ref ${name}: no parameter, resource or pseudo parameter of that name`);
	}

	needAttribute(res, attr, at) {
		this.n.getatts++;
		if (typeof res !== 'string' || this.resources[res] === undefined) {
			this.error(at, `Fn::GetAtt ${res}: no resource of that name`);
			return;
		}
		const type = this.resources[res].Type;
		const rs = this.spec.ResourceTypes[type];
		if (!rs || typeof attr !== 'string')	// custom resource, or computed name
			return;
		if (type === 'AWS::CloudFormation::Stack' && attr.startsWith('Outputs.'))
			return;
		const attrs = Object.keys(rs.Attributes || {});
		if (!attrs.includes(attr))
			this.error(at, `Fn::GetAtt ${res}.${attr}: ${type} has no attribute ${attr} (it has: ${attrs.sort().join(', ') || 'none'})`);
	}

	checkSub(args, at, ctx) {
		let text = args;
		let vars = {};
		if (Array.isArray(args)) {
			if (args.length !== 2 || typeof args[0] !== 'string' || !args[1] ||
			    typeof args[1] !== 'object' || Array.isArray(args[1])) {
				this.error(at, 'Fn::Sub takes a string, or [string, {variables}]');
				return;
			}
			[text, vars] = args;
			this.walk(vars, at.concat('1'), ctx);
		} else if (typeof args !== 'string') {
			this.error(at, 'Fn::Sub takes a string, or [string, {variables}]');
			return;
		}
		for (const m of text.matchAll(/\$\{([^}]*)\}/g)) {
			const name = m[1].trim();
			this.n.subvars++;
			if (name.startsWith('!') || Object.prototype.hasOwnProperty.call(vars, name))
				continue;
			const dot = name.indexOf('.');
			if (dot > 0 && !PSEUDO.includes(name))
				this.needAttribute(name.slice(0, dot), name.slice(dot + 1), at);
			else if (this.params[name] !== undefined || PSEUDO.includes(name) ||
				 this.resources[name] !== undefined)
				this.needRef(name, at, ctx);
			else
				this.error(at, `Fn::Sub variable \${${name}}: no parameter, resource, pseudo parameter or variable of that name`);
		}
	}

	nArgs(fn, args, at, lo, hi) {
		if (!Array.isArray(args) || args.length < lo || args.length > hi) {
			this.error(at, `${fn} takes a list of ${lo === hi ? lo : `${lo} to ${hi}`} arguments`);
			return false;
		}
		return true;
	}

	checkFunction(fn, args, at, ctx) {
		switch (fn) {
		case 'Ref':
			return this.needRef(args, at, ctx);
		case 'Condition':
			return this.needCondition(args, at);
		case 'Fn::GetAtt':
			if (this.nArgs(fn, args, at, 2, 2))
				this.needAttribute(args[0], args[1], at);
			break;
		case 'Fn::Sub':
			return this.checkSub(args, at, ctx);
		case 'Fn::If':
			if (this.nArgs(fn, args, at, 3, 3))
				this.needCondition(args[0], at.concat('0'));
			break;
		case 'Fn::Equals':
			this.nArgs(fn, args, at, 2, 2);
			break;
		case 'Fn::And': case 'Fn::Or':
			this.nArgs(fn, args, at, 2, 10);
			break;
		case 'Fn::Not':
			this.nArgs(fn, args, at, 1, 1);
			break;
		case 'Fn::Select': case 'Fn::Join': case 'Fn::Split':
			this.nArgs(fn, args, at, 2, 2);
			break;
		case 'Fn::Cidr':
			this.nArgs(fn, args, at, 3, 3);
			break;
		case 'Fn::FindInMap':
			if (this.nArgs(fn, args, at, 3, 3))
				this.checkFindInMap(args, at);
			break;
		case 'Fn::GetAZs': case 'Fn::Base64': case 'Fn::ImportValue': case 'Fn::Transform':
			break;
		default:
			this.error(at, `unknown intrinsic function ${fn}`);
		}
		return undefined;
	}

	checkFindInMap(args, at) {
		const [map, top, second] = args;
		if (typeof map !== 'string')
			return;
		const m = this.mappings[map];
		if (m === undefined) {
			this.error(at, `Fn::FindInMap: no mapping ${map}`);
			return;
		}
		if (typeof top !== 'string')
			return;
		if (m[top] === undefined)
			this.error(at, `Fn::FindInMap: mapping ${map} has no key ${top}`);
		else if (typeof second === 'string' && m[top][second] === undefined)
			this.error(at, `Fn::FindInMap: mapping ${map}.${top} has no key ${second}`);
	}

	// Every function call inside v.  In a condition, {Condition: NAME}
	// inside Fn::And/Or/Not is a reference too.
	walk(v, at, ctx) {
		if (Array.isArray(v)) {
			v.forEach((item, i) => this.walk(item, at.concat(String(i)), ctx));
			return;
		}
		if (!v || typeof v !== 'object')
			return;
		if (this.isFunction(v)) {
			const fn = Object.keys(v)[0];
			if (fn === 'Condition' && !ctx.inCondition)
				return;	// a plain key named Condition (an IAM policy's)
			if (fn.startsWith('Fn::') && !FUNCTIONS.has(fn)) {
				this.error(at, `unknown intrinsic function ${fn}`);
				return;
			}
			this.checkFunction(fn, v[fn], at.concat(fn), ctx);
			const inner = CONDITION_FUNCTIONS.includes(fn) ?
				Object.assign({}, ctx, { inCondition: true }) : ctx;
			if (fn !== 'Ref' && fn !== 'Condition')
				this.walk(v[fn], at.concat(fn), inner);
			return;
		}
		for (const [k, item] of Object.entries(v))
			this.walk(item, at.concat(k), ctx);
	}
}

function main(argv) {
	let modules = __dirname;
	const files = [];
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--modules' && i + 1 < argv.length)
			modules = argv[++i];
		else if (argv[i].startsWith('-'))
			usage();
		else
			files.push(argv[i]);
	}
	if (!files.length)
		usage();
	const req = createRequire(path.join(path.resolve(modules), 'package.json'));
	const yaml = req('yaml');
	const spec = req('@aws-cdk/cfnspec/spec/specification.json');
	console.log(`cfn-check: CloudFormation resource specification ${spec.ResourceSpecificationVersion}` +
		` (@aws-cdk/cfnspec ${req('@aws-cdk/cfnspec/package.json').version}), yaml ${req('yaml/package.json').version}`);
	let bad = 0;
	for (const file of files) {
		const c = new Checker(spec, file, yaml);
		if (c.tmpl)
			c.run();
		for (const w of c.warnings)
			console.log(`warning: ${w}`);
		for (const e of c.errors)
			console.log(`error: ${e}`);
		const res = c.tmpl ? Object.values(c.tmpl.Resources || {}) : [];
		const types = [...new Set(res.map((r) => r && r.Type))].length;
		console.log(`${file}: ${res.length} resources of ${types} types, ` +
			`${Object.keys((c.tmpl && c.tmpl.Parameters) || {}).length} parameters, ` +
			`${Object.keys((c.tmpl && c.tmpl.Outputs) || {}).length} outputs; checked ` +
			`${c.n.props} properties, ${c.n.refs} Refs, ${c.n.getatts} GetAtts, ` +
			`${c.n.subvars} Sub variables, ${c.n.conds} condition names: ` +
			`${c.errors.length} errors, ${c.warnings.length} warnings`);
		if (c.errors.length)
			bad++;
	}
	process.exit(bad ? 1 : 0);
}

main(process.argv.slice(2));
